//! Early writeback for uploads that will be fsynced.
//!
//! Without it, every byte of a large upload is still dirty in the page cache
//! when the upload finishes, and the final fsync stalls for as long as the
//! disk needs to write all of it. Flushing on a side thread while data keeps
//! arriving overlaps the disk writes with the network transfer.

use std::fs::File;
use std::sync::mpsc::{sync_channel, SyncSender};
use std::thread::JoinHandle;

/// Bytes written between two writeback nudges.
pub(super) const NUDGE_EVERY: u64 = 32 * 1024 * 1024;

/// A side thread that runs `fdatasync` on a file whenever nudged.
pub(super) struct Writeback {
    nudge: Option<SyncSender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Writeback {
    pub(super) fn start(file: &File) -> std::io::Result<Writeback> {
        let file = file.try_clone()?;
        let (nudge, nudged) = sync_channel::<()>(1);
        let thread = std::thread::Builder::new().name("berth-writeback".into()).spawn(move || {
            while nudged.recv().is_ok() {
                // Errors surface again, and are reported, at the final fsync.
                let _ = file.sync_data();
            }
        })?;
        Ok(Writeback { nudge: Some(nudge), thread: Some(thread) })
    }

    /// Asks for a flush; a no-op while one is already pending.
    pub(super) fn nudge(&self) {
        if let Some(n) = &self.nudge {
            let _ = n.try_send(());
        }
    }
}

impl Drop for Writeback {
    fn drop(&mut self) {
        self.nudge.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

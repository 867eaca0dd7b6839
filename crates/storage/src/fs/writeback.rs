//! Early writeback for uploads that will be fsynced.
//!
//! Without it, every byte of a large upload is still dirty in the page cache
//! when the upload finishes, and the final fsync stalls for as long as the
//! disk needs to write all of it. Flushing on a side thread while data keeps
//! arriving overlaps the disk writes with the network transfer.
//!
//! The side thread flushes a duplicate of the writer's descriptor, which
//! shares its error state: an error it sees is not reported again to the
//! final flush, so the thread keeps the first error and hands it back.

use std::fs::File;
use std::sync::mpsc::{sync_channel, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;

use super::file_ops::FileOps;

/// Bytes written between two writeback nudges.
pub(super) const NUDGE_EVERY: u64 = 32 * 1024 * 1024;

/// A side thread that flushes a file whenever nudged.
pub(super) struct Writeback {
    nudge: Option<SyncSender<()>>,
    thread: Option<JoinHandle<std::io::Result<()>>>,
}

impl Writeback {
    pub(super) fn start(file: &File, ops: Arc<dyn FileOps>) -> std::io::Result<Writeback> {
        let file = file.try_clone()?;
        let (nudge, nudged) = sync_channel::<()>(1);
        let thread = std::thread::Builder::new().name("berth-writeback".into()).spawn(move || {
            let mut first_error = Ok(());
            while nudged.recv().is_ok() {
                if let Err(e) = ops.sync(&file) {
                    if first_error.is_ok() {
                        first_error = Err(e);
                    }
                }
            }
            first_error
        })?;
        Ok(Writeback { nudge: Some(nudge), thread: Some(thread) })
    }

    /// Asks for a flush; a no-op while one is already pending.
    pub(super) fn nudge(&self) {
        if let Some(n) = &self.nudge {
            let _ = n.try_send(());
        }
    }

    /// Stops the thread and returns the first error any of its flushes met.
    pub(super) fn finish(mut self) -> std::io::Result<()> {
        self.stop()
    }

    fn stop(&mut self) -> std::io::Result<()> {
        self.nudge.take();
        match self.thread.take().map(|t| t.join()) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(std::io::Error::other("writeback thread panicked")),
            None => Ok(()),
        }
    }
}

impl Drop for Writeback {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

//! File operations that fail on demand, for tests that prove a failure at
//! any step loses nothing acknowledged and publishes nothing unacknowledged.

use std::fs::File;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use super::file_ops::{FileOps, RealFileOps};

/// Which call a fault applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Write,
    Sync,
    Rename,
    SyncDir,
}

/// How an injected call fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// `ENOSPC`: no space left on the device.
    NoSpace,
    /// `EIO`: the device reported an error.
    Io,
}

impl Failure {
    fn error(self) -> std::io::Error {
        match self {
            Failure::NoSpace => std::io::Error::from_raw_os_error(28),
            Failure::Io => std::io::Error::from_raw_os_error(5),
        }
    }
}

/// Real file operations, except that the `nth` call (counted from 1) of a
/// chosen step fails, once, with a chosen error.
#[derive(Default)]
pub struct FaultyFileOps {
    plan: Mutex<Option<(Step, u64, Failure)>>,
    counts: [AtomicU64; 4],
}

impl FaultyFileOps {
    /// Arms a fault: the `nth` call of `step` from now fails with `failure`.
    pub fn fail_nth(&self, step: Step, nth: u64, failure: Failure) {
        self.counts[step as usize].store(0, Ordering::SeqCst);
        *self.plan.lock().unwrap_or_else(|e| e.into_inner()) = Some((step, nth, failure));
    }

    /// Whether the armed fault has fired (or none is armed).
    pub fn fired(&self) -> bool {
        self.plan.lock().unwrap_or_else(|e| e.into_inner()).is_none()
    }

    fn check(&self, step: Step) -> std::io::Result<()> {
        let n = self.counts[step as usize].fetch_add(1, Ordering::SeqCst) + 1;
        let mut plan = self.plan.lock().unwrap_or_else(|e| e.into_inner());
        match *plan {
            Some((s, nth, failure)) if s == step && n == nth => {
                *plan = None;
                Err(failure.error())
            }
            _ => Ok(()),
        }
    }
}

impl FileOps for FaultyFileOps {
    fn write(&self, file: &mut File, buf: &[u8]) -> std::io::Result<()> {
        self.check(Step::Write)?;
        RealFileOps.write(file, buf)
    }

    fn sync(&self, file: &File) -> std::io::Result<()> {
        self.check(Step::Sync)?;
        RealFileOps.sync(file)
    }

    fn rename(&self, from: &Path, to: &Path) -> std::io::Result<()> {
        self.check(Step::Rename)?;
        RealFileOps.rename(from, to)
    }

    fn sync_dir(&self, dir: &Path) -> std::io::Result<()> {
        self.check(Step::SyncDir)?;
        RealFileOps.sync_dir(dir)
    }
}

//! The file-system calls on which the store's durability rests.
//!
//! Every write, flush and rename that decides whether an acknowledged blob
//! survives goes through [`FileOps`], so tests can wrap the real calls and
//! make the Nth one fail (see `faults`) to prove that a failure anywhere is
//! reported and publishes nothing.

use std::fs::File;
use std::io::Write;
use std::path::Path;

/// Writes, flushes and renames, as the blob store performs them.
pub trait FileOps: Send + Sync + 'static {
    /// Writes all of `buf` to `file`.
    fn write(&self, file: &mut File, buf: &[u8]) -> std::io::Result<()> {
        file.write_all(buf)
    }

    /// Makes a file's data durable. Called on the descriptor that wrote
    /// the data: a write-back error is reported once per open file, so a
    /// second descriptor opened later may never see it.
    fn sync(&self, file: &File) -> std::io::Result<()> {
        file.sync_data()
    }

    /// Atomically moves `from` to `to`, replacing what is there.
    fn rename(&self, from: &Path, to: &Path) -> std::io::Result<()> {
        std::fs::rename(from, to)
    }

    /// Makes a directory's entries (a new name in it) durable.
    fn sync_dir(&self, dir: &Path) -> std::io::Result<()> {
        File::open(dir)?.sync_all()
    }
}

/// The operating system's calls, unchanged.
pub struct RealFileOps;

impl FileOps for RealFileOps {}

//! A small tmpfs mounted for one test, to meet a really full disk.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

/// A tmpfs of a fixed size, unmounted on drop. Mounting needs root (CI runs
/// as root); elsewhere this fails with a message saying so.
pub struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    pub fn mount(size_bytes: u64) -> Result<Tmpfs> {
        let dir = tempfile::Builder::new().prefix("berth-tmpfs-").tempdir()?;
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size_bytes}"), "tmpfs"])
            .arg(dir.path())
            .output()
            .context("running mount")?;
        if !out.status.success() {
            bail!(
                "mounting a tmpfs failed (these tests need root to mount one): {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(Tmpfs { dir })
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Fills the file system until only about `leave` bytes are free, with
    /// one file whose path is returned; deleting it frees the space again.
    pub fn fill(&self, leave: u64) -> Result<PathBuf> {
        let path = self.path().join("filler");
        let mut file = std::fs::File::create(&path)?;
        let block = vec![0x5au8; 64 * 1024];
        loop {
            match file.write(&block) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.raw_os_error() == Some(28) => break,
                Err(e) => return Err(e.into()),
            }
        }
        let len = file.metadata()?.len();
        file.set_len(len.saturating_sub(leave))?;
        Ok(path)
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.dir.path()).status();
    }
}

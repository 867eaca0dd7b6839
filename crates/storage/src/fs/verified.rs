//! Blob files recently proven to hold what their digest says.
//!
//! Hashing a whole download costs about 0.6 CPU-seconds per GiB even with
//! the CPU's SHA instructions, which more than halved the speed of large
//! downloads. A file is therefore hashed again only when it may have
//! changed: each proof (the upload that wrote it, or a whole read that
//! hashed it) is kept with the file's stamp (device, inode, length,
//! modification and change times). Any write, truncation or replacement
//! through the file system changes the stamp, so such a file is hashed on
//! its next whole read and found out. Damage below the file system (a
//! failing disk) leaves the stamp alone, and so does a write in the same
//! clock tick as the proof on kernels with coarse file times (before
//! Linux 6.13's fine-grained change times), so a proof also expires after
//! [`REVERIFY_AFTER`], and the next whole read after that hashes again.

use std::collections::HashMap;
use std::fs::Metadata;
use std::os::unix::fs::MetadataExt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use berth_core::Digest;

/// How long a proof holds for a file whose stamp has not changed.
pub(super) const REVERIFY_AFTER: Duration = Duration::from_secs(3600);
/// Proofs kept at most; past it they are all dropped, and blobs are hashed
/// again as they are read.
const MAX_PROOFS: usize = 100_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    dev: u64,
    ino: u64,
    len: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl Stamp {
    fn of(m: &Metadata) -> Stamp {
        Stamp {
            dev: m.dev(),
            ino: m.ino(),
            len: m.len(),
            mtime: (m.mtime(), m.mtime_nsec()),
            ctime: (m.ctime(), m.ctime_nsec()),
        }
    }
}

/// The proofs, by digest.
#[derive(Default)]
pub(super) struct Verified {
    proofs: Mutex<HashMap<Digest, (Stamp, Instant)>>,
}

impl Verified {
    /// Whether the file described by `found` was proven to hold `digest`
    /// recently and has not changed since.
    pub(super) fn holds(&self, digest: &Digest, found: &Metadata) -> bool {
        let proofs = self.proofs.lock().unwrap_or_else(|e| e.into_inner());
        proofs.get(digest).is_some_and(|(stamp, at)| *stamp == Stamp::of(found) && at.elapsed() < REVERIFY_AFTER)
    }

    /// Records that the file described by `found` holds `digest`.
    pub(super) fn prove(&self, digest: &Digest, found: &Metadata) {
        let mut proofs = self.proofs.lock().unwrap_or_else(|e| e.into_inner());
        if proofs.len() >= MAX_PROOFS {
            proofs.clear();
        }
        proofs.insert(digest.clone(), (Stamp::of(found), Instant::now()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_file_needs_a_new_proof() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("blob");
        std::fs::write(&path, b"proven bytes").unwrap();
        let digest = Digest::sha256_of(b"proven bytes");
        let verified = Verified::default();
        let before = std::fs::metadata(&path).unwrap();
        assert!(!verified.holds(&digest, &before));
        verified.prove(&digest, &before);
        assert!(verified.holds(&digest, &std::fs::metadata(&path).unwrap()));
        // Same length, other bytes: the stamp changes.
        std::fs::write(&path, b"changed byte").unwrap();
        assert!(!verified.holds(&digest, &std::fs::metadata(&path).unwrap()));
    }
}

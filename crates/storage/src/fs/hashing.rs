//! The running hash of an upload.

use std::io::Read;
use std::path::Path;

use berth_core::{Algorithm, DigestHasher};

/// The sha256 state of an upload's first `len` bytes, if known.
#[derive(Default)]
pub(super) struct UploadState {
    pub(super) hash: Option<(u64, DigestHasher)>,
}

impl UploadState {
    /// The hasher covering exactly the first `len` bytes of the file at
    /// `path` and `algorithm`: the cached one if it matches, else rebuilt by
    /// reading the file (after a restart, or on another node).
    pub(super) fn take_hasher(&mut self, path: &Path, len: u64, algorithm: Algorithm) -> std::io::Result<DigestHasher> {
        if let Some((n, h)) = self.hash.take() {
            if n == len && algorithm == Algorithm::Sha256 {
                return Ok(h);
            }
        }
        hash_prefix(path, len, algorithm)
    }
}

/// Hashes the first `len` bytes of a file. Blocking.
fn hash_prefix(path: &Path, len: u64, algorithm: Algorithm) -> std::io::Result<DigestHasher> {
    let mut h = algorithm.hasher();
    let mut f = std::fs::File::open(path)?.take(len);
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            return Ok(h);
        }
        h.update(&buf[..n]);
    }
}

//! Setting aside stored blobs found damaged.
//!
//! A blob file whose size or content differs from what was stored is moved
//! to `quarantine/<algorithm>-<hex>-<unix seconds>`. From then on the blob
//! reads as absent, so clients (which check with `HEAD` before pushing) push
//! it again and a new upload stores it afresh; the damaged bytes stay there
//! for an operator to inspect or delete.

use std::fs::Metadata;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use berth_core::Digest;

use crate::StorageError;

/// What was wrong with a blob file, for the log and the error.
pub(super) enum Damage {
    /// The file holds `stored` bytes where `expected` were stored.
    Size { stored: u64, expected: u64 },
    /// The file's bytes hash to `actual`.
    Content { actual: Digest },
}

impl std::fmt::Display for Damage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Damage::Size { stored, expected } => write!(f, "{stored} bytes stored where {expected} were written"),
            Damage::Content { actual } => write!(f, "stored bytes have digest {actual}"),
        }
    }
}

/// Moves the damaged blob file at `path`, described by `found`, into the
/// quarantine directory under `root`, logs it, and returns the error that
/// reports it. Blocking.
///
/// The file is moved only if `path` still names the file that was found
/// damaged: a new upload of the same blob may have replaced it meanwhile,
/// and that one must stay.
pub(super) fn set_aside(root: &Path, path: &Path, digest: &Digest, found: &Metadata, damage: Damage) -> StorageError {
    match move_if_same(root, path, digest, found) {
        Ok(Some(target)) => tracing::error!(
            %digest, %damage, quarantined = %target.display(),
            "stored blob is damaged; set aside, it reads as absent until it is pushed again"
        ),
        Ok(None) => tracing::error!(%digest, %damage, "stored blob was damaged; already set aside or replaced"),
        Err(e) => tracing::error!(%digest, %damage, error = %e, "stored blob is damaged and could not be set aside"),
    }
    StorageError::BlobDamaged(damage.to_string())
}

fn move_if_same(root: &Path, path: &Path, digest: &Digest, found: &Metadata) -> std::io::Result<Option<PathBuf>> {
    let now = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    if (now.dev(), now.ino()) != (found.dev(), found.ino()) {
        return Ok(None);
    }
    let dir = root.join("quarantine");
    std::fs::create_dir_all(&dir)?;
    let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    let target = dir.join(format!("{}-{}-{since_epoch}", digest.algorithm().as_str(), digest.hex()));
    std::fs::rename(path, &target)?;
    Ok(Some(target))
}

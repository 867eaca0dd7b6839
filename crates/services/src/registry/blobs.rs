//! Reading and deleting blobs through a repository.

use berth_core::{Digest, Error, RepoName, Result};
use berth_storage::{ByteRange, ByteStream, StorageError};

use super::Registry;
use crate::errors;

/// A byte range as a client asked for it, before the blob size is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeRequest {
    /// `start-` or `start-end` (inclusive).
    From { start: u64, end: Option<u64> },
    /// `-n`: the last `n` bytes.
    Suffix(u64),
}

impl RangeRequest {
    /// The concrete range within a blob of `size` bytes.
    pub fn resolve(self, size: u64) -> Result<ByteRange> {
        let unsatisfiable = || Error::RangeNotSatisfiable {
            message: format!("requested range is outside the blob, which is {size} bytes long"),
            blob_size: size,
        };
        match self {
            RangeRequest::From { start, end } => {
                if start >= size || end.is_some_and(|e| e < start) {
                    return Err(unsatisfiable());
                }
                let end = end.map_or(size - 1, |e| e.min(size - 1));
                Ok(ByteRange { start, end })
            }
            RangeRequest::Suffix(n) => {
                if n == 0 || size == 0 {
                    return Err(unsatisfiable());
                }
                Ok(ByteRange { start: size.saturating_sub(n), end: size - 1 })
            }
        }
    }
}

/// A blob, or part of one, ready to stream.
pub struct BlobContent {
    /// Size of the whole blob.
    pub size: u64,
    /// The part being sent, if a range was asked for.
    pub range: Option<ByteRange>,
    pub stream: ByteStream,
}

fn blob_unknown(repo: &RepoName, digest: &Digest) -> Error {
    Error::BlobUnknown(format!("blob {digest} is not in repository {repo}"))
}

/// A blob the database links but storage cannot serve whole. Clients check
/// with `HEAD` before pushing a layer, so answering as for an unknown blob
/// makes their next push upload it again, which heals it.
fn stored_blob_error(repo: &RepoName, digest: &Digest, e: StorageError) -> Error {
    let missing = || {
        Error::BlobUnknown(format!(
            "blob {digest} of repository {repo} is missing from storage or damaged; it must be pushed again"
        ))
    };
    match e {
        StorageError::BlobNotFound => {
            tracing::error!(%digest, %repo, "blob is linked in the database but missing from storage");
            missing()
        }
        // Storage logged what it found and set the blob aside.
        StorageError::BlobDamaged(_) => missing(),
        other => errors::storage(other),
    }
}

impl Registry {
    /// Size of a blob `repo` links, as recorded in the database.
    pub async fn stat_blob(&self, repo: &RepoName, digest: &Digest) -> Result<u64> {
        if let Some(size) = self.cache.link(repo, digest) {
            return Ok(size);
        }
        let seen = self.cache.generation();
        let size = self.meta.linked_blob_size(repo, digest).await.map_err(errors::meta)?;
        let size = size.ok_or_else(|| blob_unknown(repo, digest))?;
        self.cache.put_link(repo, digest, size, seen);
        Ok(size)
    }

    /// Size of a blob `repo` links, once storage was seen to hold all of
    /// it, so `HEAD` and `GET` agree on a blob whose file is lost or cut short.
    pub async fn head_blob(&self, repo: &RepoName, digest: &Digest) -> Result<u64> {
        let size = self.stat_blob(repo, digest).await?;
        self.blobs.check_size(digest, size).await.map_err(|e| stored_blob_error(repo, digest, e))?;
        Ok(size)
    }

    /// Streams a blob `repo` links, or a range of it. The stored size is
    /// checked before anything is sent, and a whole blob is verified against
    /// its digest as it streams.
    pub async fn get_blob(&self, repo: &RepoName, digest: &Digest, range: Option<RangeRequest>) -> Result<BlobContent> {
        let size = self.stat_blob(repo, digest).await?;
        let range = range.map(|r| r.resolve(size)).transpose()?;
        let stream = self.blobs.read_checked(digest, size, range).await;
        let stream = stream.map_err(|e| stored_blob_error(repo, digest, e))?;
        Ok(BlobContent { size, range, stream })
    }

    /// Removes `repo`'s link to a blob. The bytes stay until garbage
    /// collection finds nothing else uses them.
    pub async fn delete_blob(&self, repo: &RepoName, digest: &Digest) -> Result<()> {
        let removed = self.meta.unlink_blob(repo, digest).await.map_err(errors::meta)?;
        self.cache.forget_link(repo, digest);
        if removed {
            Ok(())
        } else {
            Err(blob_unknown(repo, digest))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_ranges() {
        let r = |s, e| ByteRange { start: s, end: e };
        assert_eq!(RangeRequest::From { start: 0, end: Some(9) }.resolve(100).unwrap(), r(0, 9));
        assert_eq!(RangeRequest::From { start: 90, end: None }.resolve(100).unwrap(), r(90, 99));
        assert_eq!(RangeRequest::From { start: 90, end: Some(500) }.resolve(100).unwrap(), r(90, 99));
        assert_eq!(RangeRequest::Suffix(10).resolve(100).unwrap(), r(90, 99));
        assert_eq!(RangeRequest::Suffix(500).resolve(100).unwrap(), r(0, 99));
        for bad in [
            RangeRequest::From { start: 100, end: None },
            RangeRequest::From { start: 5, end: Some(4) },
            RangeRequest::Suffix(0),
        ] {
            assert!(matches!(bad.resolve(100), Err(Error::RangeNotSatisfiable { blob_size: 100, .. })));
        }
    }
}

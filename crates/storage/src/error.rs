//! What a blob store operation can fail with.

use berth_core::Digest;

pub type StorageResult<T> = Result<T, StorageError>;

/// Failures of a [`crate::BlobStore`].
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("blob not found")]
    BlobNotFound,
    /// A stored blob no longer holds what was stored (bytes missing or
    /// changed). It has been set aside and reads as absent from now on.
    #[error("stored blob is damaged: {0}")]
    BlobDamaged(String),
    #[error("upload not found")]
    UploadNotFound,
    /// A write did not start at the end of the upload.
    #[error("upload is {size} bytes long, chunk starts at {offset}")]
    OffsetMismatch { size: u64, offset: u64 },
    /// The uploaded bytes hash to something other than what was promised.
    #[error("upload content has digest {actual}")]
    DigestMismatch { actual: Digest, size: u64 },
    /// The client's body stream failed (disconnect, bad framing). What
    /// arrived before the failure stays in the upload.
    #[error("upload body interrupted after {size} bytes: {source}")]
    BodyInterrupted { size: u64, source: std::io::Error },
    /// The backend itself failed (disk full, permissions).
    #[error("storage backend failure: {0}")]
    Backend(#[from] std::io::Error),
}

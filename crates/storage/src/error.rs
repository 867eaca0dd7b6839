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
    /// No space is left where blobs are stored (the disk, or a quota on
    /// it). The write that met it was undone; writes work again once space
    /// is freed.
    #[error("storage is full: {0}")]
    Full(std::io::Error),
    /// The backend itself failed (permissions, I/O errors).
    #[error("storage backend failure: {0}")]
    Backend(std::io::Error),
}

impl From<std::io::Error> for StorageError {
    fn from(e: std::io::Error) -> Self {
        if is_out_of_space(&e) {
            StorageError::Full(e)
        } else {
            StorageError::Backend(e)
        }
    }
}

/// Whether an I/O failure means the disk or a quota on it is full.
pub fn is_out_of_space(e: &std::io::Error) -> bool {
    use std::io::ErrorKind;
    matches!(e.kind(), ErrorKind::StorageFull | ErrorKind::QuotaExceeded)
}

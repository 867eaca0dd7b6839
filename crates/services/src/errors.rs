//! Translating port failures into domain errors.

use berth_core::Error;
use berth_meta::MetaError;
use berth_storage::StorageError;

/// A metadata failure is never the client's fault; a write refused because
/// its project was deleted meanwhile is answered as if the project had been
/// gone from the start.
pub(crate) fn meta(e: MetaError) -> Error {
    match e {
        MetaError::Full(detail) => storage_full(detail),
        MetaError::ProjectMissing(project) => {
            Error::NameUnknown(format!("project '{project}' does not exist; create it first"))
        }
        MetaError::Database(_) | MetaError::Corrupt(_) => Error::internal(e),
    }
}

/// The client's answer when a write met a full disk; the detail (which
/// may name paths) goes to the log only.
fn storage_full(detail: impl std::fmt::Display) -> Error {
    tracing::error!(%detail, "a write failed because storage is full");
    Error::StorageFull(
        "the registry's storage is full: nothing was stored; try again once an administrator has freed space".into(),
    )
}

/// Storage failures that reach here without a more specific meaning.
pub(crate) fn storage(e: StorageError) -> Error {
    match e {
        StorageError::BlobNotFound => Error::BlobUnknown("blob unknown to registry".into()),
        StorageError::BlobDamaged(_) => Error::BlobUnknown("blob content is damaged in storage; push it again".into()),
        StorageError::UploadNotFound => Error::BlobUploadUnknown("blob upload unknown to registry".into()),
        StorageError::OffsetMismatch { size, offset } => Error::RangeInvalid {
            message: format!("chunk starts at byte {offset} but the upload holds {size} bytes; resume at {size}"),
            upload_size: size,
        },
        StorageError::DigestMismatch { actual, size } => Error::DigestInvalid(format!(
            "uploaded content ({size} bytes) has digest {actual}, which differs from the digest given"
        )),
        StorageError::BodyInterrupted { size, source } => Error::BlobUploadInvalid(format!(
            "request body ended early ({source}); the upload now holds {size} bytes and can be resumed from there"
        )),
        StorageError::Full(e) => storage_full(e),
        StorageError::Backend(e) => Error::internal(e),
    }
}

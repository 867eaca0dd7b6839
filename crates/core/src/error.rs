//! The domain error: what went wrong, in terms a registry client understands.
//!
//! Each transport maps these variants to its own wire format exactly once
//! (the OCI error table in `api-oci`).

/// Result alias for domain operations.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything a registry operation can refuse or fail with.
///
/// The `String` in each variant is a message meant for a person; it never
/// holds file paths, SQL or other internals.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    NameInvalid(String),
    #[error("{0}")]
    NameUnknown(String),
    #[error("{0}")]
    TagInvalid(String),
    #[error("{0}")]
    DigestInvalid(String),
    #[error("{0}")]
    BlobUnknown(String),
    #[error("{0}")]
    BlobUploadUnknown(String),
    #[error("{0}")]
    BlobUploadInvalid(String),
    /// A chunk did not start where the upload ends; carries the current size
    /// so the client can resume from there.
    #[error("{message}")]
    RangeInvalid { message: String, upload_size: u64 },
    /// A requested byte range lies outside the blob.
    #[error("{message}")]
    RangeNotSatisfiable { message: String, blob_size: u64 },
    #[error("{0}")]
    SizeInvalid(String),
    #[error("{0}")]
    ManifestInvalid(String),
    #[error("{0}")]
    ManifestUnknown(String),
    #[error("{0}")]
    ManifestBlobUnknown(String),
    #[error("{0}")]
    PaginationInvalid(String),
    #[error("{0}")]
    ManifestTooLarge(String),
    #[error("{0}")]
    Unsupported(String),
    /// No credentials, or credentials that do not identify anyone.
    #[error("{0}")]
    Unauthorized(String),
    /// The caller is known but may not do this.
    #[error("{0}")]
    Denied(String),
    /// Too many failed attempts; try again later.
    #[error("{0}")]
    TooManyRequests(String),
    /// A management resource (user, project, member...) does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The request collides with what exists (a taken name).
    #[error("{0}")]
    Conflict(String),
    /// The request is malformed or breaks a rule; the message says which.
    #[error("{0}")]
    Invalid(String),
    /// The resource is in a state that forbids the operation (a project
    /// that still holds repositories cannot be deleted).
    #[error("{0}")]
    PreconditionFailed(String),
    /// The registry's storage (disk, database or a quota on them) is full.
    /// Nothing was written; the same request succeeds once space is freed.
    #[error("{0}")]
    StorageFull(String),
    /// A failure the client cannot fix (disk, database). The message is
    /// logged, never sent.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// Wraps an infrastructure failure; the detail goes to the log only.
    pub fn internal(e: impl std::fmt::Display) -> Error {
        Error::Internal(e.to_string())
    }
}

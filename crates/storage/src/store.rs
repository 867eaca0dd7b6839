//! The blob storage port.

use std::pin::Pin;

use async_trait::async_trait;
use berth_core::Digest;
use bytes::Bytes;
use futures::Stream;

use crate::{ByteRange, StorageResult};

/// A stream of blob bytes, in or out.
pub type ByteStream = Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send>>;

/// Identifies an upload in progress. Always a UUID in canonical form, so it
/// is safe to use in paths and keys.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UploadId(String);

impl UploadId {
    /// A fresh random id.
    pub fn new() -> UploadId {
        UploadId(uuid::Uuid::new_v4().to_string())
    }

    /// Parses a client-supplied id; `None` unless it is a UUID.
    pub fn parse(s: &str) -> Option<UploadId> {
        uuid::Uuid::parse_str(s).ok().filter(|u| u.hyphenated().to_string() == s).map(|_| UploadId(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for UploadId {
    fn default() -> Self {
        UploadId::new()
    }
}

/// Where blob bytes live. Implementations must make a blob visible only
/// once it is complete and verified.
#[async_trait]
pub trait BlobStore: Send + Sync + 'static {
    /// Size of a stored blob, or `None` if absent.
    async fn stat(&self, digest: &Digest) -> StorageResult<Option<u64>>;

    /// Streams a stored blob, or the given part of it, as stored.
    async fn read(&self, digest: &Digest, range: Option<ByteRange>) -> StorageResult<ByteStream>;

    /// Checks that the blob stored for `digest` is `size` bytes long, the
    /// size it had when it was stored. Fails with `BlobNotFound` if it is
    /// absent, and with `BlobDamaged` if its length differs, after setting
    /// it aside: from then on it reads as absent, so a new upload stores it
    /// afresh.
    async fn check_size(&self, digest: &Digest, size: u64) -> StorageResult<()>;

    /// Streams a stored blob, or part of it, to a client. Before yielding
    /// anything it fails as [`check_size`](Self::check_size) does. A whole
    /// read is hashed as it streams: if the content does not match `digest`,
    /// the stream fails instead of yielding its last bytes, and the blob is
    /// set aside as for a wrong length.
    async fn read_checked(&self, digest: &Digest, size: u64, range: Option<ByteRange>) -> StorageResult<ByteStream>;

    /// Removes a stored blob. Removing an absent blob is not an error.
    async fn delete(&self, digest: &Digest) -> StorageResult<()>;

    /// Opens an empty upload.
    async fn create_upload(&self, id: &UploadId) -> StorageResult<()>;

    /// Appends `body` to an upload: at its end, or at `offset`, which must
    /// then equal the current size. Returns the new size. If the body stream fails, the bytes received
    /// before the failure are kept, so the client can resume.
    async fn append_upload(&self, id: &UploadId, offset: Option<u64>, body: ByteStream) -> StorageResult<u64>;

    /// Current size of an upload.
    async fn upload_size(&self, id: &UploadId) -> StorageResult<u64>;

    /// Verifies the upload against `expected` and moves it into place as a
    /// blob. Returns the blob's size. On a digest mismatch the upload is
    /// discarded and nothing becomes visible.
    async fn finish_upload(&self, id: &UploadId, expected: &Digest) -> StorageResult<u64>;

    /// Discards an upload.
    async fn cancel_upload(&self, id: &UploadId) -> StorageResult<()>;

    /// Uploads last written to before `before`: candidates for purging.
    async fn uploads_idle_since(&self, before: std::time::SystemTime) -> StorageResult<Vec<UploadId>>;

    /// Whether a small write succeeds now: fails with
    /// [`crate::StorageError::Full`] when no space is left.
    async fn check_writable(&self) -> StorageResult<()>;

    /// Discards an upload only if nothing has written to it since `before`
    /// and no request is using it at this moment, so a purge never takes
    /// an upload from under a client that resumes it. Returns whether it
    /// was discarded; an absent upload is not.
    async fn discard_idle_upload(&self, id: &UploadId, before: std::time::SystemTime) -> StorageResult<bool>;
}

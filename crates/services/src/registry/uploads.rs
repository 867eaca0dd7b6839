//! Blob uploads: sessions, chunks, monolithic uploads and mounts.

use std::sync::Arc;

use berth_core::{Digest, Error, RepoName, Result};
use berth_storage::{BlobStore, ByteStream, StorageError, UploadId};

use super::Registry;
use crate::errors;

/// Where a chunk sits in an upload: the client's `Content-Range`, both
/// ends inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkRange {
    pub start: u64,
    pub end: u64,
}

/// Discards a one-shot upload unless disarmed: when the request is
/// dropped half way (the client went away), its staged bytes go too.
struct DiscardUnlessKept {
    blobs: Arc<dyn BlobStore>,
    id: Option<UploadId>,
}

impl DiscardUnlessKept {
    fn keep(mut self) {
        self.id = None;
    }
}

impl Drop for DiscardUnlessKept {
    fn drop(&mut self) {
        if let Some(id) = self.id.take() {
            let blobs = self.blobs.clone();
            // Runs after any write still in flight for this upload.
            tokio::spawn(async move {
                let _ = blobs.cancel_upload(&id).await;
            });
        }
    }
}

fn upload_unknown(id: &str) -> Error {
    Error::BlobUploadUnknown(format!("upload {id} is unknown: it finished, was cancelled, or never existed"))
}

impl Registry {
    /// Opens an upload session in `repo`.
    pub async fn start_upload(&self, repo: &RepoName) -> Result<UploadId> {
        let id = UploadId::new();
        // The database row comes first: a crash between the two leaves a
        // row without a file, which reads as an unknown upload.
        self.meta.create_upload(id.as_str(), repo).await.map_err(errors::meta)?;
        self.blobs.create_upload(&id).await.map_err(errors::storage)?;
        Ok(id)
    }

    /// Links an already stored blob into `repo` without moving any bytes.
    ///
    /// The blob must be linked in `from`: knowing a digest alone never
    /// gives access to content. Returns the blob's size, or `None` when
    /// there is nothing to mount and the client must upload.
    pub async fn mount_blob(&self, repo: &RepoName, digest: &Digest, from: &RepoName) -> Result<Option<u64>> {
        let size = self.meta.linked_blob_size(from, digest).await.map_err(errors::meta)?;
        let Some(size) = size else { return Ok(None) };
        // A file that is missing, cut short or damaged is no mount source:
        // the client uploads the blob instead, which heals it.
        match self.blobs.check_size(digest, size).await {
            Ok(()) => {}
            Err(StorageError::BlobNotFound | StorageError::BlobDamaged(_)) => return Ok(None),
            Err(e) => return Err(errors::storage(e)),
        }
        self.meta.link_blob(repo, digest, size).await.map_err(errors::meta)?;
        Ok(Some(size))
    }

    /// Uploads a whole blob in one request and verifies it against `digest`.
    pub async fn upload_whole(&self, repo: &RepoName, digest: &Digest, body: ByteStream) -> Result<u64> {
        let id = UploadId::new();
        // A one-shot upload cannot be resumed: unless it succeeds, the bytes
        // are thrown away, also when the client disconnects mid-way (even
        // while the staging file is being created).
        let staged = DiscardUnlessKept { blobs: self.blobs.clone(), id: Some(id.clone()) };
        self.blobs.create_upload(&id).await.map_err(errors::storage)?;
        let size = self.write_and_finish(repo, &id, digest, Some((body, None))).await?;
        staged.keep();
        Ok(size)
    }

    async fn write_and_finish(
        &self,
        repo: &RepoName,
        id: &UploadId,
        digest: &Digest,
        last_chunk: Option<(ByteStream, Option<ChunkRange>)>,
    ) -> Result<u64> {
        if let Some((body, range)) = last_chunk {
            match self.blobs.append_upload(id, range.map(|r| r.start), body).await {
                Ok(_) => {}
                // A retried request whose chunk an earlier attempt already
                // stored: the upload ends exactly where this chunk does.
                Err(StorageError::OffsetMismatch { size, .. })
                    if range.is_some_and(|r| r.end.checked_add(1) == Some(size)) => {}
                Err(e) => return Err(errors::storage(e)),
            }
        }
        let size = self.blobs.finish_upload(id, digest).await.map_err(errors::storage)?;
        self.meta.link_blob(repo, digest, size).await.map_err(errors::meta)?;
        Ok(size)
    }

    /// Resolves a client-supplied upload id belonging to `repo`.
    async fn session(&self, repo: &RepoName, id: &str) -> Result<UploadId> {
        let parsed = UploadId::parse(id).ok_or_else(|| upload_unknown(id))?;
        match self.meta.upload_repository(id).await.map_err(errors::meta)? {
            Some(r) if r == repo.as_str() => Ok(parsed),
            _ => Err(upload_unknown(id)),
        }
    }

    /// Maps storage's "no such upload" to the session being gone, dropping
    /// the stale row so it is not reported again.
    async fn upload_error(&self, id: &UploadId, e: StorageError) -> Error {
        if matches!(e, StorageError::UploadNotFound) {
            let _ = self.meta.delete_upload(id.as_str()).await;
            return upload_unknown(id.as_str());
        }
        errors::storage(e)
    }

    /// Current size of an upload.
    pub async fn upload_status(&self, repo: &RepoName, id: &str) -> Result<u64> {
        let id = self.session(repo, id).await?;
        match self.blobs.upload_size(&id).await {
            Ok(size) => Ok(size),
            Err(e) => Err(self.upload_error(&id, e).await),
        }
    }

    /// Appends a chunk. `start` is where the client says the chunk begins
    /// (from `Content-Range`); without it the chunk goes at the end.
    /// Returns the new size.
    pub async fn append_upload(&self, repo: &RepoName, id: &str, start: Option<u64>, body: ByteStream) -> Result<u64> {
        let id = self.session(repo, id).await?;
        match self.blobs.append_upload(&id, start, body).await {
            Ok(size) => Ok(size),
            Err(e) => Err(self.upload_error(&id, e).await),
        }
    }

    /// Completes an upload, with an optional last chunk placed at `range`
    /// when given, and links the verified blob into `repo`. A digest
    /// mismatch ends the session; any other failure leaves it to retry.
    pub async fn finish_upload(
        &self,
        repo: &RepoName,
        id: &str,
        digest: &Digest,
        body: Option<ByteStream>,
        range: Option<ChunkRange>,
    ) -> Result<u64> {
        let id = self.session(repo, id).await?;
        let result = self.write_and_finish(repo, &id, digest, body.map(|b| (b, range))).await;
        match &result {
            Ok(_) | Err(Error::DigestInvalid(_)) | Err(Error::BlobUploadUnknown(_)) => {
                self.meta.delete_upload(id.as_str()).await.map_err(errors::meta)?;
            }
            Err(_) => {}
        }
        result
    }

    /// Cancels an upload and discards its bytes.
    pub async fn cancel_upload(&self, repo: &RepoName, id: &str) -> Result<()> {
        let id = self.session(repo, id).await?;
        let result = self.blobs.cancel_upload(&id).await;
        self.meta.delete_upload(id.as_str()).await.map_err(errors::meta)?;
        match result {
            Ok(()) | Err(StorageError::UploadNotFound) => Ok(()),
            Err(e) => Err(errors::storage(e)),
        }
    }
}

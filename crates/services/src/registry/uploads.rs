//! Blob uploads: sessions, chunks, monolithic uploads and mounts.

use berth_core::{Digest, Error, RepoName, Result};
use berth_storage::{ByteStream, StorageError, UploadId};

use super::Registry;
use crate::errors;

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
        if self.blobs.stat(digest).await.map_err(errors::storage)?.is_none() {
            return Ok(None);
        }
        self.meta.link_blob(repo, digest, size).await.map_err(errors::meta)?;
        Ok(Some(size))
    }

    /// Uploads a whole blob in one request and verifies it against `digest`.
    pub async fn upload_whole(&self, repo: &RepoName, digest: &Digest, body: ByteStream) -> Result<u64> {
        let id = UploadId::new();
        self.blobs.create_upload(&id).await.map_err(errors::storage)?;
        let result = self.write_and_finish(repo, &id, digest, Some(body)).await;
        if result.is_err() {
            // A one-shot upload cannot be resumed: throw the bytes away.
            let _ = self.blobs.cancel_upload(&id).await;
        }
        result
    }

    async fn write_and_finish(
        &self,
        repo: &RepoName,
        id: &UploadId,
        digest: &Digest,
        body: Option<ByteStream>,
    ) -> Result<u64> {
        if let Some(body) = body {
            self.blobs.append_upload(id, None, body).await.map_err(errors::storage)?;
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

    /// Completes an upload, with an optional last chunk, and links the
    /// verified blob into `repo`. A digest mismatch ends the session.
    pub async fn finish_upload(
        &self,
        repo: &RepoName,
        id: &str,
        digest: &Digest,
        body: Option<ByteStream>,
    ) -> Result<u64> {
        let id = self.session(repo, id).await?;
        let result = self.write_and_finish(repo, &id, digest, body).await;
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

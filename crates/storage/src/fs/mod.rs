//! Local filesystem backend.
//!
//! Layout under the root directory:
//! - `blobs/<algorithm>/<first two hex>/<hex>`: finished, verified blobs.
//! - `uploads/<uuid>`: uploads in progress.
//!
//! Both live on one filesystem so finishing an upload is a `rename`.

mod chunks;
#[cfg(any(test, feature = "test-suite"))]
pub mod faults;
mod file_ops;
mod hashing;
mod quarantine;
mod read;
mod upload;
mod verified;
mod writeback;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use berth_core::Digest;

use crate::{BlobStore, ByteRange, ByteStream, StorageError, StorageResult, UploadId};
pub use file_ops::{FileOps, RealFileOps};
use hashing::UploadState;
use upload::Disk;
use verified::Verified;

/// Blob store on a local directory.
pub struct FsBlobStore {
    root: PathBuf,
    disk: Disk,
    /// Per-upload state: serializes writers of one upload and keeps the
    /// running hash so finishing does not re-read the file. Lost on restart,
    /// in which case the hash is rebuilt from the file.
    uploads: Mutex<HashMap<UploadId, Arc<tokio::sync::Mutex<UploadState>>>>,
    /// Blob files known to match their digest, whose whole reads need no
    /// hashing until they change or the proof expires.
    verified: Arc<Verified>,
}

impl FsBlobStore {
    /// Opens (creating if needed) a store rooted at `root`. With `fsync`,
    /// blob data is flushed to disk before it becomes visible.
    pub fn open(root: impl Into<PathBuf>, fsync: bool) -> StorageResult<FsBlobStore> {
        FsBlobStore::open_with(root, fsync, Arc::new(RealFileOps))
    }

    /// Like [`FsBlobStore::open`], writing through `ops` (tests pass
    /// operations that fail on demand).
    pub fn open_with(root: impl Into<PathBuf>, fsync: bool, ops: Arc<dyn FileOps>) -> StorageResult<FsBlobStore> {
        let root = root.into();
        std::fs::create_dir_all(root.join("blobs"))?;
        std::fs::create_dir_all(root.join("uploads"))?;
        let (disk, verified) = (Disk { ops, fsync }, Arc::new(Verified::default()));
        Ok(FsBlobStore { root, disk, uploads: Mutex::new(HashMap::new()), verified })
    }

    fn blob_path(&self, d: &Digest) -> PathBuf {
        blob_path(&self.root, d)
    }

    fn upload_path(&self, id: &UploadId) -> PathBuf {
        self.root.join("uploads").join(id.as_str())
    }

    fn upload_state(&self, id: &UploadId) -> Arc<tokio::sync::Mutex<UploadState>> {
        let mut map = self.uploads.lock().unwrap_or_else(|e| e.into_inner());
        map.entry(id.clone()).or_default().clone()
    }

    fn forget_upload(&self, id: &UploadId) {
        self.uploads.lock().unwrap_or_else(|e| e.into_inner()).remove(id);
    }
}

/// Bytes written by a writability check.
const PROBE_BYTES: usize = 64 * 1024;

fn blob_path(root: &Path, d: &Digest) -> PathBuf {
    root.join("blobs").join(d.algorithm().as_str()).join(&d.hex()[..2]).join(d.hex())
}

/// A blocking task that panicked or was cancelled.
fn join_error(e: tokio::task::JoinError) -> StorageError {
    StorageError::Backend(std::io::Error::other(e))
}

/// Runs blocking file work on the blocking pool.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> StorageResult<T> + Send + 'static) -> StorageResult<T> {
    tokio::task::spawn_blocking(work).await.map_err(join_error)?
}

/// An I/O failure, where a missing file means `missing` (no such blob,
/// no such upload).
fn absent_as(e: std::io::Error, missing: StorageError) -> StorageError {
    if e.kind() == std::io::ErrorKind::NotFound {
        missing
    } else {
        e.into()
    }
}

#[async_trait]
impl BlobStore for FsBlobStore {
    async fn stat(&self, digest: &Digest) -> StorageResult<Option<u64>> {
        match tokio::fs::metadata(self.blob_path(digest)).await {
            Ok(m) => Ok(Some(m.len())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn read(&self, digest: &Digest, range: Option<ByteRange>) -> StorageResult<ByteStream> {
        read::open_stream(self.blob_path(digest), range).await
    }

    async fn check_size(&self, digest: &Digest, size: u64) -> StorageResult<()> {
        read::check_size(&self.root, digest, size).await
    }

    async fn read_checked(&self, digest: &Digest, size: u64, range: Option<ByteRange>) -> StorageResult<ByteStream> {
        read::open_checked(&self.root, digest, size, range, self.verified.clone()).await
    }

    async fn delete(&self, digest: &Digest) -> StorageResult<()> {
        match tokio::fs::remove_file(self.blob_path(digest)).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    async fn create_upload(&self, id: &UploadId) -> StorageResult<()> {
        // The lock goes with the blocking call, so a cancel issued when the
        // request is dropped half way runs after the file exists.
        let guard = self.upload_state(id).lock_owned().await;
        let path = self.upload_path(id);
        let disk = self.disk.clone();
        blocking(move || {
            let created = std::fs::File::create(&path).and_then(|_| match path.parent() {
                // The new name must survive power loss like the bytes that
                // acknowledged chunks will put in it.
                Some(dir) if disk.fsync => disk.ops.sync_dir(dir),
                _ => Ok(()),
            });
            drop(guard);
            created.map_err(StorageError::from)
        })
        .await
    }

    async fn append_upload(&self, id: &UploadId, offset: Option<u64>, body: ByteStream) -> StorageResult<u64> {
        let state = self.upload_state(id).lock_owned().await;
        let result = upload::append(self.upload_path(id), state, offset, body, self.disk.clone()).await;
        if matches!(result, Err(StorageError::UploadNotFound)) {
            self.forget_upload(id);
        }
        result
    }

    async fn upload_size(&self, id: &UploadId) -> StorageResult<u64> {
        match tokio::fs::metadata(self.upload_path(id)).await {
            Ok(m) => Ok(m.len()),
            Err(e) => Err(absent_as(e, StorageError::UploadNotFound)),
        }
    }

    async fn finish_upload(&self, id: &UploadId, expected: &Digest) -> StorageResult<u64> {
        let state = self.upload_state(id).lock_owned().await;
        let target = self.blob_path(expected);
        let (disk, verified) = (self.disk.clone(), self.verified.clone());
        let result = upload::finish(self.upload_path(id), state, expected, target, disk, verified).await;
        if !matches!(result, Err(StorageError::Backend(_) | StorageError::Full(_))) {
            self.forget_upload(id);
        }
        result
    }

    async fn uploads_idle_since(&self, before: std::time::SystemTime) -> StorageResult<Vec<UploadId>> {
        let dir = self.root.join("uploads");
        let mut idle = Vec::new();
        let mut entries = tokio::fs::read_dir(&dir).await?;
        while let Some(entry) = entries.next_entry().await? {
            let Some(id) = entry.file_name().to_str().and_then(UploadId::parse) else { continue };
            let modified = entry.metadata().await?.modified()?;
            if modified < before {
                idle.push(id);
            }
        }
        Ok(idle)
    }

    async fn check_writable(&self) -> StorageResult<()> {
        let probe = self.root.join("uploads").join(format!(".probe-{}", UploadId::new().as_str()));
        blocking(move || {
            // As much as a typical small blob, so a nearly full disk fails too.
            let written = std::fs::write(&probe, [0u8; PROBE_BYTES]);
            let _ = std::fs::remove_file(&probe);
            written.map_err(StorageError::from)
        })
        .await
    }

    async fn discard_idle_upload(&self, id: &UploadId, before: std::time::SystemTime) -> StorageResult<bool> {
        let state = self.upload_state(id);
        // A request holding the upload is using it: not idle, whatever its age.
        let Ok(_guard) = state.try_lock() else { return Ok(false) };
        let path = self.upload_path(id);
        let modified = match tokio::fs::metadata(&path).await {
            Ok(m) => m.modified()?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                self.forget_upload(id);
                return Ok(false);
            }
            Err(e) => return Err(e.into()),
        };
        if modified >= before {
            return Ok(false);
        }
        match tokio::fs::remove_file(&path).await {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(e.into()),
        }
        self.forget_upload(id);
        Ok(true)
    }

    async fn cancel_upload(&self, id: &UploadId) -> StorageResult<()> {
        let state = self.upload_state(id);
        let _guard = state.lock().await;
        let result = match tokio::fs::remove_file(self.upload_path(id)).await {
            Ok(()) => Ok(()),
            Err(e) => Err(absent_as(e, StorageError::UploadNotFound)),
        };
        self.forget_upload(id);
        result
    }
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn passes_the_shared_suite() {
        let dir = tempfile::tempdir().unwrap();
        let store = super::FsBlobStore::open(dir.path(), true).unwrap();
        crate::suite::run_all(&store).await;
    }

    #[tokio::test]
    async fn upload_resumes_after_reopen() {
        use crate::{BlobStore, UploadId};
        let dir = tempfile::tempdir().unwrap();
        let id = UploadId::new();
        {
            let store = super::FsBlobStore::open(dir.path(), false).unwrap();
            store.create_upload(&id).await.unwrap();
            let part = futures::stream::once(async { Ok(bytes::Bytes::from_static(b"before ")) });
            store.append_upload(&id, Some(0), Box::pin(part)).await.unwrap();
        }
        let store = super::FsBlobStore::open(dir.path(), false).unwrap();
        assert_eq!(store.upload_size(&id).await.unwrap(), 7);
        let part = futures::stream::once(async { Ok(bytes::Bytes::from_static(b"restart")) });
        store.append_upload(&id, Some(7), Box::pin(part)).await.unwrap();
        let d = berth_core::Digest::sha256_of(b"before restart");
        assert_eq!(store.finish_upload(&id, &d).await.unwrap(), 14);
    }
}

#[cfg(test)]
mod fault_tests;

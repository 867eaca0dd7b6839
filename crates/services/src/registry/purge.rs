//! Purging abandoned uploads, whose staged bytes would otherwise stay on
//! disk forever when a client gives up half way.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use berth_core::Result;
use berth_storage::{StorageError, UploadId};

use super::Registry;
use crate::errors;

/// Session rows examined per purge pass.
const ROWS_PER_PASS: u32 = 10_000;

impl Registry {
    /// Discards uploads nobody has written to for `max_idle`, and session
    /// records whose staged bytes are gone. Returns how many were removed.
    pub async fn purge_abandoned_uploads(&self, max_idle: Duration) -> Result<usize> {
        let cutoff = SystemTime::now().checked_sub(max_idle).unwrap_or(UNIX_EPOCH);
        let mut removed = 0;
        for id in self.blobs.uploads_idle_since(cutoff).await.map_err(errors::storage)? {
            // Checked again under the upload's lock: a client may have
            // resumed it since it was listed.
            if self.blobs.discard_idle_upload(&id, cutoff).await.map_err(errors::storage)? {
                self.meta.delete_upload(id.as_str()).await.map_err(errors::meta)?;
                removed += 1;
            }
        }
        let cutoff_secs = cutoff.duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
        for id in self.meta.uploads_created_before(cutoff_secs, ROWS_PER_PASS).await.map_err(errors::meta)? {
            let staged = match UploadId::parse(&id) {
                Some(upload) => !matches!(self.blobs.upload_size(&upload).await, Err(StorageError::UploadNotFound)),
                None => false,
            };
            if !staged && self.meta.delete_upload(&id).await.map_err(errors::meta)? {
                removed += 1;
            }
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use berth_core::{Error, RepoName};
    use berth_meta::sqlite::SqliteMeta;
    use berth_storage::fs::FsBlobStore;

    use crate::Registry;

    #[tokio::test]
    async fn purges_only_idle_uploads() {
        let dir = tempfile::tempdir().unwrap();
        let meta = SqliteMeta::open(&dir.path().join("berth.db")).await.unwrap();
        let blobs = FsBlobStore::open(dir.path(), false).unwrap();
        let registry = Registry::new(Arc::new(meta), Arc::new(blobs));
        let repo: RepoName = "purge/app".parse().unwrap();
        let id = registry.start_upload(&repo).await.unwrap();

        assert_eq!(registry.purge_abandoned_uploads(Duration::from_secs(3600)).await.unwrap(), 0);
        assert_eq!(registry.upload_status(&repo, id.as_str()).await.unwrap(), 0);

        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(registry.purge_abandoned_uploads(Duration::from_millis(1)).await.unwrap(), 1);
        let gone = registry.upload_status(&repo, id.as_str()).await;
        assert!(matches!(gone, Err(Error::BlobUploadUnknown(_))), "{gone:?}");
    }
}

//! The OCI registry use cases: blobs, uploads, manifests, listings.

mod blobs;
mod cache;
mod descriptor;
#[cfg(test)]
mod fault_tests;
mod listing;
mod manifest_parse;
mod manifests;
mod purge;
mod repositories;
#[cfg(test)]
mod upload_race_tests;
mod uploads;

use std::sync::Arc;

use berth_meta::Meta;
use berth_storage::BlobStore;

pub use blobs::{BlobContent, RangeRequest};
pub use listing::{Page, PageResult, MAX_PAGE};
pub use manifests::{Accept, PutManifestOutcome};
pub use uploads::ChunkRange;

use cache::HotCache;

/// Largest manifest body accepted, in bytes.
pub const MAX_MANIFEST_BYTES: usize = 4 * 1024 * 1024;

/// The registry: content-addressed blobs, repositories, manifests, tags.
#[derive(Clone)]
pub struct Registry {
    meta: Arc<dyn Meta>,
    blobs: Arc<dyn BlobStore>,
    cache: Arc<HotCache>,
}

impl Registry {
    pub fn new(meta: Arc<dyn Meta>, blobs: Arc<dyn BlobStore>) -> Registry {
        Registry { meta, blobs, cache: Arc::new(HotCache::new()) }
    }

    /// Whether blob storage takes a write right now.
    pub async fn check_storage(&self) -> berth_core::Result<()> {
        self.blobs.check_writable().await.map_err(crate::errors::storage)
    }
}

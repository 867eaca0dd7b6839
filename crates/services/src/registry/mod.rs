//! The OCI registry use cases: blobs, uploads, manifests, listings.

mod blobs;
mod cache;
mod descriptor;
mod listing;
mod manifest_parse;
mod manifests;
mod purge;
mod repositories;
mod uploads;

use std::sync::Arc;

use berth_meta::Meta;
use berth_storage::BlobStore;

pub use blobs::{BlobContent, RangeRequest};
pub use listing::{Page, PageResult, MAX_PAGE};
pub use manifests::{Accept, PutManifestOutcome};

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
}

//! A small in-memory cache for the hot read path (manifest and small blob
//! GETs), so those do not touch the database on every request.
//!
//! Entries expire after `TTL` so that, with several nodes sharing one
//! database, a change made on another node shows here within that time. On
//! this node, writes invalidate the affected entries at once.

use std::sync::Arc;
use std::time::{Duration, Instant};

use berth_core::{Digest, RepoName, Tag};
use berth_meta::ManifestRecord;
use quick_cache::sync::Cache;
use quick_cache::Weighter;

const TTL: Duration = Duration::from_secs(5);
/// Memory budget for cached manifest bodies.
const MANIFEST_BYTES: u64 = 8 * 1024 * 1024;
const ENTRIES: usize = 10_000;

type Key = (RepoName, String);

#[derive(Clone)]
struct Timed<T> {
    value: T,
    at: Instant,
}

#[derive(Clone)]
struct ManifestWeight;

impl Weighter<Key, Timed<Arc<ManifestRecord>>> for ManifestWeight {
    fn weight(&self, key: &Key, val: &Timed<Arc<ManifestRecord>>) -> u64 {
        (key.0.as_str().len() + key.1.len() + val.value.body.len() + 128) as u64
    }
}

/// Tag targets, manifests by digest, and blob links, per repository.
pub(super) struct HotCache {
    tags: Cache<Key, Timed<Digest>>,
    manifests: Cache<Key, Timed<Arc<ManifestRecord>>, ManifestWeight>,
    links: Cache<Key, Timed<u64>>,
}

fn fresh<T: Clone>(hit: Option<Timed<T>>) -> Option<T> {
    hit.filter(|t| t.at.elapsed() < TTL).map(|t| t.value)
}

fn timed<T>(value: T) -> Timed<T> {
    Timed { value, at: Instant::now() }
}

impl HotCache {
    pub(super) fn new() -> HotCache {
        HotCache {
            tags: Cache::new(ENTRIES),
            manifests: Cache::with_weighter(ENTRIES, MANIFEST_BYTES, ManifestWeight),
            links: Cache::new(ENTRIES),
        }
    }

    pub(super) fn tag(&self, repo: &RepoName, tag: &Tag) -> Option<Digest> {
        fresh(self.tags.get(&(repo.clone(), tag.to_string())))
    }

    pub(super) fn put_tag(&self, repo: &RepoName, tag: &Tag, digest: &Digest) {
        self.tags.insert((repo.clone(), tag.to_string()), timed(digest.clone()));
    }

    pub(super) fn forget_tag(&self, repo: &RepoName, tag: &Tag) {
        self.tags.remove(&(repo.clone(), tag.to_string()));
    }

    pub(super) fn manifest(&self, repo: &RepoName, digest: &Digest) -> Option<Arc<ManifestRecord>> {
        fresh(self.manifests.get(&(repo.clone(), digest.to_string())))
    }

    pub(super) fn put_manifest(&self, repo: &RepoName, m: Arc<ManifestRecord>) {
        self.manifests.insert((repo.clone(), m.digest.to_string()), timed(m));
    }

    /// Forgets a manifest and every cached tag of the repository (any of
    /// them may have pointed at it).
    pub(super) fn forget_manifest(&self, repo: &RepoName, digest: &Digest) {
        self.manifests.remove(&(repo.clone(), digest.to_string()));
        self.tags.retain(|k, _| &k.0 != repo);
    }

    pub(super) fn link(&self, repo: &RepoName, digest: &Digest) -> Option<u64> {
        fresh(self.links.get(&(repo.clone(), digest.to_string())))
    }

    pub(super) fn put_link(&self, repo: &RepoName, digest: &Digest, size: u64) {
        self.links.insert((repo.clone(), digest.to_string()), timed(size));
    }

    pub(super) fn forget_link(&self, repo: &RepoName, digest: &Digest) {
        self.links.remove(&(repo.clone(), digest.to_string()));
    }
}

//! A small in-memory cache for the hot read path (manifest and small blob
//! GETs), so those do not touch the database on every request.
//!
//! Entries expire after `TTL` so that, with several nodes sharing one
//! database, a change made on another node shows here within that time. On
//! this node, writes invalidate the affected entries at once.
//!
//! A read that raced a write must not put the old value back: every write
//! bumps a generation counter after changing the database, and a reader
//! that saw the counter move while it was reading drops what it inserted.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use berth_core::{Digest, RepoName, Tag};
use berth_meta::ManifestRecord;
use quick_cache::sync::Cache;
use quick_cache::Weighter;

use crate::ttl::{fresh, timed, Timed};

const TTL: Duration = Duration::from_secs(5);
/// Memory budget for cached manifest bodies.
const MANIFEST_BYTES: u64 = 8 * 1024 * 1024;
const ENTRIES: usize = 10_000;

type Key = (RepoName, String);

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
    generation: AtomicU64,
}

/// The cache's generation when a database read began.
#[derive(Clone, Copy)]
pub(super) struct Generation(u64);

impl HotCache {
    pub(super) fn new() -> HotCache {
        HotCache {
            tags: Cache::new(ENTRIES),
            manifests: Cache::with_weighter(ENTRIES, MANIFEST_BYTES, ManifestWeight),
            links: Cache::new(ENTRIES),
            generation: AtomicU64::new(0),
        }
    }

    /// Call before reading the database for a value to cache.
    pub(super) fn generation(&self) -> Generation {
        Generation(self.generation.load(Ordering::SeqCst))
    }

    fn changed_since(&self, seen: Generation) -> bool {
        self.generation.load(Ordering::SeqCst) != seen.0
    }

    fn bump(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// Caches a value read from the database when the generation was
    /// `seen`, unless a write has happened since.
    fn fill<V: Clone, W: Weighter<Key, Timed<V>> + Clone>(
        &self,
        cache: &Cache<Key, Timed<V>, W>,
        key: Key,
        value: V,
        seen: Generation,
    ) {
        cache.insert(key.clone(), timed(value));
        if self.changed_since(seen) {
            cache.remove(&key);
        }
    }

    pub(super) fn tag(&self, repo: &RepoName, tag: &Tag) -> Option<Digest> {
        fresh(self.tags.get(&(repo.clone(), tag.to_string())), TTL)
    }

    pub(super) fn put_tag(&self, repo: &RepoName, tag: &Tag, digest: &Digest, seen: Generation) {
        self.fill(&self.tags, (repo.clone(), tag.to_string()), digest.clone(), seen);
    }

    /// Call after the database change.
    pub(super) fn forget_tag(&self, repo: &RepoName, tag: &Tag) {
        self.bump();
        self.tags.remove(&(repo.clone(), tag.to_string()));
    }

    pub(super) fn manifest(&self, repo: &RepoName, digest: &Digest) -> Option<Arc<ManifestRecord>> {
        fresh(self.manifests.get(&(repo.clone(), digest.to_string())), TTL)
    }

    pub(super) fn put_manifest(&self, repo: &RepoName, m: Arc<ManifestRecord>, seen: Generation) {
        self.fill(&self.manifests, (repo.clone(), m.digest.to_string()), m, seen);
    }

    /// Forgets a manifest and every cached tag of the repository (any of
    /// them may have pointed at it). Call after the database change.
    pub(super) fn forget_manifest(&self, repo: &RepoName, digest: &Digest) {
        self.bump();
        self.manifests.remove(&(repo.clone(), digest.to_string()));
        self.tags.retain(|k, _| &k.0 != repo);
    }

    pub(super) fn link(&self, repo: &RepoName, digest: &Digest) -> Option<u64> {
        fresh(self.links.get(&(repo.clone(), digest.to_string())), TTL)
    }

    pub(super) fn put_link(&self, repo: &RepoName, digest: &Digest, size: u64, seen: Generation) {
        self.fill(&self.links, (repo.clone(), digest.to_string()), size, seen);
    }

    /// Call after the database change.
    /// Forgets everything, after a change too wide to track entry by entry.
    pub(super) fn forget_all(&self) {
        self.bump();
        self.tags.clear();
        self.manifests.clear();
        self.links.clear();
    }

    pub(super) fn forget_link(&self, repo: &RepoName, digest: &Digest) {
        self.bump();
        self.links.remove(&(repo.clone(), digest.to_string()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_racing_a_write_does_not_restore_the_old_value() {
        let cache = HotCache::new();
        let repo: RepoName = "r".parse().unwrap();
        let tag: Tag = "t".parse().unwrap();
        let old = Digest::sha256_of(b"old");
        let seen = cache.generation();
        // A write lands between the reader's database read and its insert.
        cache.forget_tag(&repo, &tag);
        cache.put_tag(&repo, &tag, &old, seen);
        assert_eq!(cache.tag(&repo, &tag), None);
        // Without a concurrent write the value is cached.
        let seen = cache.generation();
        cache.put_tag(&repo, &tag, &old, seen);
        assert_eq!(cache.tag(&repo, &tag), Some(old));
    }
}

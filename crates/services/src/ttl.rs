//! Values that expire: cached entries are trusted for a short time so that,
//! with several nodes sharing one database, a change made on another node
//! shows everywhere within that time.

use std::hash::Hash;
use std::time::{Duration, Instant};

use quick_cache::sync::Cache;

/// A cached value and when it was read.
#[derive(Clone)]
pub(crate) struct Timed<T> {
    pub(crate) value: T,
    at: Instant,
}

/// Stamps `value` with the current time.
pub(crate) fn timed<T>(value: T) -> Timed<T> {
    Timed { value, at: Instant::now() }
}

/// The value of a cache hit younger than `ttl`.
pub(crate) fn fresh<T: Clone>(hit: Option<Timed<T>>, ttl: Duration) -> Option<T> {
    hit.filter(|t| t.at.elapsed() < ttl).map(|t| t.value)
}

/// A bounded map whose entries expire after a fixed time.
pub(crate) struct TtlCache<K: Eq + Hash + Clone, V: Clone> {
    entries: Cache<K, Timed<V>>,
    ttl: Duration,
}

impl<K: Eq + Hash + Clone, V: Clone> TtlCache<K, V> {
    pub(crate) fn new(capacity: usize, ttl: Duration) -> Self {
        TtlCache { entries: Cache::new(capacity), ttl }
    }

    pub(crate) fn get(&self, key: &K) -> Option<V> {
        fresh(self.entries.get(key), self.ttl)
    }

    pub(crate) fn insert(&self, key: K, value: V) {
        self.entries.insert(key, timed(value));
    }

    /// Forgets everything, after a change that may affect any entry.
    pub(crate) fn clear(&self) {
        self.entries.clear();
    }
}

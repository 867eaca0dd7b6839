//! A bounded table of when each key last signed in, each entry counting for
//! a fixed time afterwards: the shape shared by good history and proven
//! credentials.

use std::hash::Hash;
use std::time::{Duration, Instant};

use quick_cache::unsync::Cache;

/// Keys that signed in lately, each good for `good_for` after its last success.
pub(super) struct Recent<K: Eq + Hash + Clone> {
    table: Cache<K, Instant>,
    good_for: Duration,
}

impl<K: Eq + Hash + Clone> Recent<K> {
    pub(super) fn new(capacity: usize, good_for: Duration) -> Self {
        Recent { table: Cache::new(capacity), good_for }
    }

    /// Whether `key` signed in within `good_for` before `now`.
    pub(super) fn holds(&self, key: &K, now: Instant) -> bool {
        self.table.get(key).is_some_and(|at| now < *at + self.good_for)
    }

    pub(super) fn record(&mut self, key: K, now: Instant) {
        self.table.insert(key, now);
    }

    pub(super) fn forget(&mut self, key: &K) {
        self.table.remove(key);
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.table.len()
    }
}

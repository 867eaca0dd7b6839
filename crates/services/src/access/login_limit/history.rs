//! Good history: the addresses an account has signed in from lately. Under
//! a distributed attack on an account, these addresses are not slowed, so
//! the owner keeps working from the usual places. Only a right password
//! adds an entry, so a guesser cannot make an address look familiar.

use std::time::{Duration, Instant};

use quick_cache::unsync::Cache;

use super::keys::Keys;

/// How long after its last successful sign-in an address stays familiar
/// for an account.
pub(super) const GOOD_FOR: Duration = Duration::from_secs(30 * 24 * 60 * 60);

/// When each (account, address) last signed in.
pub(super) struct GoodHistory {
    table: Cache<(u64, u64), Instant>,
}

impl GoodHistory {
    pub(super) fn new(capacity: usize) -> GoodHistory {
        GoodHistory { table: Cache::new(capacity) }
    }

    pub(super) fn good(&self, keys: &Keys, now: Instant) -> bool {
        self.table.get(&keys.pair()).is_some_and(|at| now < *at + GOOD_FOR)
    }

    pub(super) fn record(&mut self, keys: &Keys, now: Instant) {
        self.table.insert(keys.pair(), now);
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.table.len()
    }
}

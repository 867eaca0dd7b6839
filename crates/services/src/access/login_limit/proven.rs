//! Credentials proven good from an address: the exact name and password
//! that signed in from there recently. Such an attempt is no guess, so it
//! passes every rule; only a right password is remembered, so a guesser
//! cannot add to this table, and a wrong answer removes the entry (the
//! password was changed), so an old password passes at most once.

use std::time::{Duration, Instant};

use quick_cache::unsync::Cache;

use super::keys::Keys;

/// How long after its last successful sign-in from an address a credential
/// passes from there.
pub(super) const PROVEN_FOR: Duration = Duration::from_secs(24 * 60 * 60);

/// When each (address, credential) last signed in.
pub(super) struct ProvenCredentials {
    table: Cache<(u64, [u8; 32]), Instant>,
}

impl ProvenCredentials {
    pub(super) fn new(capacity: usize) -> ProvenCredentials {
        ProvenCredentials { table: Cache::new(capacity) }
    }

    pub(super) fn holds(&self, keys: &Keys, now: Instant) -> bool {
        self.table.get(&keys.guess()).is_some_and(|at| now < *at + PROVEN_FOR)
    }

    pub(super) fn record(&mut self, keys: &Keys, now: Instant) {
        self.table.insert(keys.guess(), now);
    }

    pub(super) fn forget(&mut self, keys: &Keys) {
        self.table.remove(&keys.guess());
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.table.len()
    }
}

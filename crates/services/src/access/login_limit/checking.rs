//! Guesses being checked right now. A password check takes a while, and a
//! failure is only counted when it ends; without this, a client sending a
//! thousand guesses at once would have them all checked before the first
//! failure was counted. Entries live only while their requests do, so the
//! tables are bounded by the server's connection limit.

use std::collections::HashMap;
use std::hash::Hash;

use super::keys::Keys;

/// Distinct guesses in flight, in total per pair, address and account.
#[derive(Default)]
pub(super) struct Checking {
    /// Requests waiting on each distinct guess (address and credential).
    guesses: HashMap<(u64, [u8; 32]), u32>,
    pairs: HashMap<(u64, u64), u32>,
    addresses: HashMap<u64, u32>,
    accounts: HashMap<u64, u32>,
}

/// Distinct guesses in flight that share something with an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Busy {
    pub(super) pair: u32,
    pub(super) address: u32,
    pub(super) account: u32,
}

impl Checking {
    /// Joins the same guess if it is already in flight; false if it is not.
    pub(super) fn join(&mut self, keys: &Keys) -> bool {
        match self.guesses.get_mut(&keys.guess()) {
            Some(holders) => {
                *holders += 1;
                true
            }
            None => false,
        }
    }

    /// Starts a new distinct guess.
    pub(super) fn enter(&mut self, keys: &Keys) {
        self.guesses.insert(keys.guess(), 1);
        *self.pairs.entry(keys.pair()).or_default() += 1;
        *self.addresses.entry(keys.address).or_default() += 1;
        *self.accounts.entry(keys.account).or_default() += 1;
    }

    /// One request for this guess is done; the guess leaves with the last.
    pub(super) fn leave(&mut self, keys: &Keys) {
        if release(&mut self.guesses, keys.guess()) {
            release(&mut self.pairs, keys.pair());
            release(&mut self.addresses, keys.address);
            release(&mut self.accounts, keys.account);
        }
    }

    pub(super) fn counts(&self, keys: &Keys) -> Busy {
        Busy {
            pair: self.pairs.get(&keys.pair()).copied().unwrap_or(0),
            address: self.addresses.get(&keys.address).copied().unwrap_or(0),
            account: self.accounts.get(&keys.account).copied().unwrap_or(0),
        }
    }

    /// Whether nothing is in flight.
    #[cfg(test)]
    pub(super) fn is_empty(&self) -> bool {
        self.guesses.is_empty() && self.pairs.is_empty() && self.addresses.is_empty() && self.accounts.is_empty()
    }
}

/// Takes one from `key`'s count, dropping the entry at zero; true when it
/// reached zero.
fn release<K: Hash + Eq>(counts: &mut HashMap<K, u32>, key: K) -> bool {
    match counts.get_mut(&key) {
        Some(n) if *n > 1 => {
            *n -= 1;
            false
        }
        Some(_) => {
            counts.remove(&key);
            true
        }
        None => false,
    }
}

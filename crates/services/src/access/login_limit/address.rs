//! Per address: a ceiling on failures across all accounts, against one
//! client trying many names. It never keeps out a credential that already
//! worked from the address (see `proven`), so the people behind a shared
//! address (an office NAT) keep working while a guesser among them is held.

use std::time::{Duration, Instant};

use quick_cache::unsync::Cache;

use super::keys::Keys;
use super::window::Window;
use super::Refused;

/// Failures from one address, across all accounts, that fill a window.
pub(super) const CEILING: u32 = 100;
/// How long a window of failures lasts from its first failure.
pub(super) const WINDOW: Duration = Duration::from_secs(15 * 60);

/// Failures per address.
pub(super) struct AddressCeiling {
    table: Cache<u64, Window>,
}

impl AddressCeiling {
    pub(super) fn new(capacity: usize) -> AddressCeiling {
        AddressCeiling { table: Cache::new(capacity) }
    }

    /// Refuses an attempt from an address at its ceiling until the window
    /// closes, and one that the guesses still being checked from it
    /// (`checking`) would take past the ceiling.
    pub(super) fn admit(&self, keys: &Keys, checking: u32, now: Instant) -> Result<(), Refused> {
        let window = self.table.get(&keys.address).copied();
        let failures = window.map_or(0, |w| w.failures(WINDOW, now));
        match window {
            Some(w) if failures >= CEILING => Err(Refused::after(w.closes(WINDOW) - now)),
            _ if failures.saturating_add(checking) >= CEILING => Err(Refused::busy()),
            _ => Ok(()),
        }
    }

    pub(super) fn failed(&mut self, keys: &Keys, now: Instant) {
        let window = Window::add(self.table.get(&keys.address).copied(), WINDOW, now);
        self.table.insert(keys.address, window);
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.table.len()
    }
}

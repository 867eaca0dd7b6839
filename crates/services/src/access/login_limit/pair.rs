//! Per account and address: a few failures are free, then each further
//! failure makes that address wait before its next try for that account,
//! twice as long each time up to a cap. Whoever fails is slowed; the same
//! account from elsewhere is not.

use std::time::{Duration, Instant};

use quick_cache::unsync::Cache;

use super::keys::Keys;
use super::Refused;

/// Failures before any delay: room for typing mistakes and a client trying
/// a stale saved password.
pub(super) const FREE_FAILURES: u32 = 5;
/// The delay after the first failure beyond the free ones.
pub(super) const FIRST_DELAY: Duration = Duration::from_secs(1);
/// The longest delay: one guess per quarter hour for this account from this address.
pub(super) const MAX_DELAY: Duration = Duration::from_secs(15 * 60);
/// A pair is forgotten this long after its last delay ended without a
/// further failure, so that waiting out a delay never resets the count.
pub(super) const FORGET_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

#[derive(Clone, Copy, Debug)]
struct Failures {
    count: u32,
    /// Until when the next attempt is refused.
    until: Instant,
}

/// Failures per (account, address).
pub(super) struct PairDelays {
    table: Cache<(u64, u64), Failures>,
}

impl PairDelays {
    pub(super) fn new(capacity: usize) -> PairDelays {
        PairDelays { table: Cache::new(capacity) }
    }

    fn current(&self, keys: &Keys, now: Instant) -> Option<Failures> {
        self.table.get(&keys.pair()).copied().filter(|f| now < f.until + FORGET_AFTER)
    }

    /// Refuses an attempt inside the delay, or one beyond the free failures
    /// while `checking` other guesses of this pair are still being checked
    /// (otherwise parallel requests would all get in before the first
    /// failure imposed its delay).
    pub(super) fn admit(&self, keys: &Keys, checking: u32, now: Instant) -> Result<(), Refused> {
        let failures = match self.current(keys, now) {
            Some(f) if now < f.until => return Err(Refused::after(f.until - now)),
            Some(f) => f.count,
            None => 0,
        };
        if checking > 0 && failures.saturating_add(checking) >= FREE_FAILURES {
            return Err(Refused::busy());
        }
        Ok(())
    }

    pub(super) fn failed(&mut self, keys: &Keys, now: Instant) {
        let count = self.current(keys, now).map_or(0, |f| f.count).saturating_add(1);
        self.table.insert(keys.pair(), Failures { count, until: now + delay_after(count) });
    }

    /// A right password from this address ends its delays for the account.
    pub(super) fn clear(&mut self, keys: &Keys) {
        self.table.remove(&keys.pair());
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.table.len()
    }
}

/// The wait imposed by failure number `failures` of a pair.
pub(super) fn delay_after(failures: u32) -> Duration {
    match failures.checked_sub(FREE_FAILURES + 1) {
        None => Duration::ZERO,
        // The shift is capped well past the point where MAX_DELAY wins.
        Some(doublings) => FIRST_DELAY.saturating_mul(1 << doublings.min(20)).min(MAX_DELAY),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_start_after_the_free_failures_double_and_stop_at_the_cap() {
        let delays: Vec<u64> = (1..=17).map(|n| delay_after(n).as_secs()).collect();
        assert_eq!(delays, [0, 0, 0, 0, 0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900]);
        assert_eq!(delay_after(u32::MAX), MAX_DELAY);
    }
}

//! Per account: when many failures for one account arrive within a window,
//! from any mix of addresses, the account is under attack. While it is,
//! attempts from addresses without a good history for it (see `history`)
//! share one slow lane, one attempt every few seconds, and are refused
//! beyond it; familiar addresses are never slowed by this rule. Spreading
//! guesses over many addresses then buys a guesser nothing.

use std::time::{Duration, Instant};

use quick_cache::unsync::Cache;

use super::keys::Keys;
use super::window::Window;
use super::Refused;

/// Failures for one account, from all addresses, that put it under attack.
pub(super) const UNDER_ATTACK: u32 = 20;
/// How long a window of failures lasts from its first failure.
pub(super) const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Under attack, unfamiliar addresses together get one attempt this often.
pub(super) const SLOW_LANE: Duration = Duration::from_secs(5);

#[derive(Clone, Copy, Debug, Default)]
struct Account {
    failures: Option<Window>,
    /// When the slow lane next lets an attempt through.
    next_turn: Option<Instant>,
}

/// Failures and the slow lane per account.
pub(super) struct AttackGuard {
    table: Cache<u64, Account>,
}

impl AttackGuard {
    pub(super) fn new(capacity: usize) -> AttackGuard {
        AttackGuard { table: Cache::new(capacity) }
    }

    /// Lets an attempt from an address without a good history through,
    /// taking the slow lane's turn while the account is under attack.
    /// Guesses still being checked (`checking`) count as failures already,
    /// so a burst of parallel guesses meets the lane too.
    pub(super) fn admit(&mut self, keys: &Keys, checking: u32, now: Instant) -> Result<(), Refused> {
        let mut account = self.table.get(&keys.account).copied().unwrap_or_default();
        let failures = account.failures.map_or(0, |w| w.failures(WINDOW, now));
        if failures.saturating_add(checking) < UNDER_ATTACK {
            return Ok(());
        }
        if let Some(turn) = account.next_turn.filter(|turn| now < *turn) {
            return Err(Refused::after(turn - now));
        }
        account.next_turn = Some(now + SLOW_LANE);
        self.table.insert(keys.account, account);
        Ok(())
    }

    pub(super) fn failed(&mut self, keys: &Keys, now: Instant) {
        let mut account = self.table.get(&keys.account).copied().unwrap_or_default();
        account.failures = Some(Window::add(account.failures, WINDOW, now));
        self.table.insert(keys.account, account);
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.table.len()
    }
}

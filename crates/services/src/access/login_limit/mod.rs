//! Throttling password guessing in a way that cannot be turned against the
//! people it protects. Every rule is checked before a password is hashed:
//!
//! - per account and address ([`pair`]): a few free failures, then a delay
//!   that doubles with each further failure; success clears it;
//! - per address ([`address`]): a ceiling on failures across all accounts,
//!   which a credential already proven from that address passes ([`proven`]);
//! - per account ([`account`]): once many addresses together fail often, the
//!   addresses without a good history for the account ([`history`]) share
//!   one slow lane, so a distributed guesser is slowed and the owner is not.
//!
//! Guesses still being checked count against the limits ([`checking`]), so
//! concurrent requests cannot slip past them. Everything lives in memory, on
//! each node separately, in tables of bounded size.

mod account;
mod address;
mod checking;
mod history;
mod keys;
mod pair;
mod proven;
mod recent;
mod refused;
#[cfg(test)]
mod tests;
mod window;

use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

pub(crate) use refused::Refused;

use account::AttackGuard;
use address::AddressCeiling;
use checking::Checking;
use history::{GoodHistory, GOOD_FOR};
use keys::{KeyMaker, Keys};
use pair::PairDelays;
use proven::{ProvenCredentials, PROVEN_FOR};

/// How many entries each table keeps at most. A flood of made-up names or
/// addresses evicts the entries seen once before those in repeated use.
const TABLE_CAPACITY: usize = 50_000;

/// One sign-in attempt: who, from where, with what.
pub(crate) struct Attempt<'a> {
    /// The username or robot name as given; compared case-insensitively.
    pub(crate) account: &'a str,
    /// The client's IP address as text.
    pub(crate) address: &'a str,
    /// A salted hash of the name and password (the key of the cache of
    /// checked passwords), so the limiter never holds a password.
    pub(crate) credential: [u8; 32],
}

/// The login throttle of one node.
#[derive(Default)]
pub(crate) struct LoginLimiter {
    keys: KeyMaker,
    state: Mutex<State>,
}

struct State {
    pairs: PairDelays,
    addresses: AddressCeiling,
    accounts: AttackGuard,
    history: GoodHistory,
    proven: ProvenCredentials,
    checking: Checking,
}

impl Default for State {
    fn default() -> State {
        State {
            pairs: PairDelays::new(TABLE_CAPACITY),
            addresses: AddressCeiling::new(TABLE_CAPACITY),
            accounts: AttackGuard::new(TABLE_CAPACITY),
            history: GoodHistory::new(TABLE_CAPACITY, GOOD_FOR),
            proven: ProvenCredentials::new(TABLE_CAPACITY, PROVEN_FOR),
            checking: Checking::default(),
        }
    }
}

impl LoginLimiter {
    /// Whether `attempt` may have its password checked at `now`. The answer
    /// must be settled with [`Pending::succeeded`] or [`Pending::failed`];
    /// dropped unsettled (an error, a client gone), it counts as neither.
    pub(crate) fn check(&self, attempt: &Attempt<'_>, now: Instant) -> Result<Pending<'_>, Refused> {
        let keys = self.keys.of(attempt);
        let mut state = self.lock();
        // A credential that already worked from here is no guess: no rule
        // applies, so no one else's failures can keep its owner out.
        if state.proven.holds(&keys.guess(), now) {
            return Ok(Pending { limiter: self, keys, tracked: false });
        }
        // The same guess already in flight from here adds no information;
        // it will wait for that check's answer rather than hash again.
        if state.checking.join(&keys) {
            return Ok(Pending { limiter: self, keys, tracked: true });
        }
        let busy = state.checking.counts(&keys);
        state.pairs.admit(&keys, busy.pair, now)?;
        state.addresses.admit(&keys, busy.address, now)?;
        if !state.history.holds(&keys.pair(), now) {
            state.accounts.admit(&keys, busy.account, now)?;
        }
        state.checking.enter(&keys);
        Ok(Pending { limiter: self, keys, tracked: true })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The counters are advisory: after a panic under the lock, carrying
        // on with them beats refusing every sign-in from then on.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Entries held per table, to check the memory bound.
    #[cfg(test)]
    fn sizes(&self) -> [usize; 5] {
        let s = self.lock();
        [s.pairs.len(), s.addresses.len(), s.accounts.len(), s.history.len(), s.proven.len()]
    }
}

/// An admitted attempt whose password is being checked.
#[must_use = "settle the attempt with succeeded() or failed()"]
pub(crate) struct Pending<'a> {
    limiter: &'a LoginLimiter,
    keys: Keys,
    /// Whether it counts among the guesses in flight.
    tracked: bool,
}

impl Pending<'_> {
    /// The password was right: clears this account's delay at this address
    /// and remembers the address and the credential as good.
    pub(crate) fn succeeded(mut self, now: Instant) {
        let mut state = self.limiter.lock();
        self.leave(&mut state);
        state.pairs.clear(&self.keys);
        state.history.record(self.keys.pair(), now);
        state.proven.record(self.keys.guess(), now);
    }

    /// The password was wrong: counts against every rule, and a credential
    /// that used to work from here no longer passes unchecked.
    pub(crate) fn failed(mut self, now: Instant) {
        let mut state = self.limiter.lock();
        self.leave(&mut state);
        state.proven.forget(&self.keys.guess());
        state.pairs.failed(&self.keys, now);
        state.addresses.failed(&self.keys, now);
        state.accounts.failed(&self.keys, now);
    }

    fn leave(&mut self, state: &mut State) {
        if std::mem::take(&mut self.tracked) {
            state.checking.leave(&self.keys);
        }
    }
}

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        if self.tracked {
            let mut state = self.limiter.lock();
            self.leave(&mut state);
        }
    }
}

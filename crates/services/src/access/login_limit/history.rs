//! Good history: the addresses an account has signed in from lately. Under
//! a distributed attack on an account, these addresses are not slowed, so
//! the owner keeps working from the usual places. Only a right password
//! adds an entry, so a guesser cannot make an address look familiar.

use std::time::Duration;

use super::recent::Recent;

/// How long after its last successful sign-in an address stays familiar
/// for an account.
pub(super) const GOOD_FOR: Duration = Duration::from_secs(30 * 24 * 60 * 60);

/// When each (account, address) last signed in; keyed by [`super::keys::Keys::pair`].
pub(super) type GoodHistory = Recent<(u64, u64)>;

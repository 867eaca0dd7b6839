//! Credentials proven good from an address: the exact name and password
//! that signed in from there recently. Such an attempt is no guess, so it
//! passes every rule; only a right password is remembered, so a guesser
//! cannot add to this table, and a wrong answer removes the entry (the
//! password was changed), so an old password passes at most once.

use std::time::Duration;

use super::recent::Recent;

/// How long after its last successful sign-in from an address a credential
/// passes from there.
pub(super) const PROVEN_FOR: Duration = Duration::from_secs(24 * 60 * 60);

/// When each (address, credential) last signed in; keyed by [`super::keys::Keys::guess`].
pub(super) type ProvenCredentials = Recent<(u64, [u8; 32])>;

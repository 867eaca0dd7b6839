//! Authentication and authorization: who is calling, and whether the
//! static policy table lets them do what they ask.

mod accounts;
mod authenticate;
mod authorize;
mod credentials;
mod grants;
pub mod ldap;
mod ldap_login;
mod login_limit;
mod principal;
mod refresh;
mod signing_keys;
mod tokens;

use std::sync::Arc;
use std::time::Duration;

use berth_auth::{SealingKey, SigningKey};
use berth_meta::{AccountKind, Meta};
use tokio::sync::Semaphore;

pub use authenticate::Surface;
pub use credentials::Credentials;
pub use grants::{Grant, ProjectAccess, RepoAction};
pub use principal::{Account, Caller, Holder, Principal, RobotAccount, RobotPermission};
pub use refresh::REFRESH_IDLE_DAYS;
pub use tokens::{TOKEN_ISSUER, TOKEN_SERVICE};

use crate::audit::Audit;
use crate::settings::Settings;
use crate::single_flight::SingleFlight;
use crate::ttl::TtlCache;
use login_limit::LoginLimiter;

/// How long a checked password is trusted without hashing it again.
const VERIFIED_TTL: Duration = Duration::from_secs(30);
/// How long an account's state and a principal's project standing are
/// trusted: the bound on how long a change made on another node (a password
/// change, a disabled account, a removed member, a project made private)
/// takes to end what tokens and cached checks allowed on this one.
pub const CHANGE_BOUND: Duration = Duration::from_secs(5);
/// Password hashing is deliberately costly in memory and time; at most this
/// many run at once so a login flood cannot exhaust the machine.
const CONCURRENT_HASHES: usize = 4;

/// Authentication and authorization decisions.
#[derive(Clone)]
pub struct Access {
    meta: Arc<dyn Meta>,
    settings: Settings,
    audit: Audit,
    /// The account each recently checked credential proved, keyed by a
    /// salted hash of username and password.
    verified: Arc<TtlCache<[u8; 32], Holder>>,
    /// One password check per credential at a time (see `single_flight`).
    checking: Arc<SingleFlight<[u8; 32]>>,
    /// Registry tokens already verified, by a hash of the token.
    tokens: Arc<TtlCache<[u8; 32], Arc<berth_auth::Claims>>>,
    accounts: Arc<TtlCache<(AccountKind, i64), Option<Principal>>>,
    standing: Arc<TtlCache<(String, String), Option<ProjectAccess>>>,
    keys: Arc<TtlCache<(), Arc<Vec<SigningKey>>>>,
    limiter: Arc<LoginLimiter>,
    hashing: Arc<Semaphore>,
    cache_salt: [u8; 32],
    /// Seals the token signing keys at rest.
    sealing: Arc<SealingKey>,
}

impl Access {
    pub fn new(meta: Arc<dyn Meta>, settings: Settings, audit: Audit, sealing: Arc<SealingKey>) -> Access {
        Access {
            meta,
            settings,
            audit,
            verified: Arc::new(TtlCache::new(10_000, VERIFIED_TTL)),
            checking: Arc::new(SingleFlight::new()),
            tokens: Arc::new(TtlCache::new(10_000, VERIFIED_TTL)),
            accounts: Arc::new(TtlCache::new(10_000, CHANGE_BOUND)),
            standing: Arc::new(TtlCache::new(50_000, CHANGE_BOUND)),
            keys: Arc::new(TtlCache::new(1, Duration::from_secs(60))),
            limiter: Arc::new(LoginLimiter::default()),
            hashing: Arc::new(Semaphore::new(CONCURRENT_HASHES)),
            cache_salt: rand::random(),
            sealing,
        }
    }

    /// Forgets cached identities and standings, after a change to users,
    /// members or projects made on this node.
    pub fn invalidate(&self) {
        self.verified.clear();
        self.tokens.clear();
        self.accounts.clear();
        self.standing.clear();
    }
}

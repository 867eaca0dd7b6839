//! Authentication and authorization: who is calling, and whether the
//! static policy table lets them do what they ask.

mod authenticate;
mod authorize;
mod credentials;
mod grants;
pub mod ldap;
mod ldap_login;
mod login_limit;
mod principal;
mod tokens;

use std::sync::Arc;
use std::time::Duration;

use berth_auth::SigningKey;
use berth_meta::Meta;
use tokio::sync::Semaphore;

pub use credentials::Credentials;
pub use grants::{Grant, ProjectAccess, RepoAction};
pub use principal::{Account, Caller, Principal, RobotAccount, RobotPermission};
pub use tokens::{TOKEN_ISSUER, TOKEN_SERVICE};

use crate::audit::Audit;
use crate::settings::Settings;
use crate::single_flight::SingleFlight;
use crate::ttl::TtlCache;
use login_limit::LoginLimiter;

/// How long a checked password is trusted without hashing it again.
const VERIFIED_TTL: Duration = Duration::from_secs(30);
/// How long a principal's project standing is trusted.
const STANDING_TTL: Duration = Duration::from_secs(5);
/// Password hashing is deliberately costly in memory and time; at most this
/// many run at once so a login flood cannot exhaust the machine.
const CONCURRENT_HASHES: usize = 4;

/// Authentication and authorization decisions.
#[derive(Clone)]
pub struct Access {
    meta: Arc<dyn Meta>,
    settings: Settings,
    audit: Audit,
    /// Keyed by a salted hash of username and password.
    verified: Arc<TtlCache<[u8; 32], Principal>>,
    /// One password check per credential at a time (see `single_flight`).
    checking: Arc<SingleFlight<[u8; 32]>>,
    /// Registry tokens already verified, by a hash of the token.
    tokens: Arc<TtlCache<[u8; 32], Arc<berth_auth::Claims>>>,
    accounts: Arc<TtlCache<String, Option<Principal>>>,
    standing: Arc<TtlCache<(String, String), Option<ProjectAccess>>>,
    keys: Arc<TtlCache<(), Arc<Vec<SigningKey>>>>,
    limiter: Arc<LoginLimiter>,
    hashing: Arc<Semaphore>,
    cache_salt: [u8; 32],
}

impl Access {
    pub fn new(meta: Arc<dyn Meta>, settings: Settings, audit: Audit) -> Access {
        Access {
            meta,
            settings,
            audit,
            verified: Arc::new(TtlCache::new(10_000, VERIFIED_TTL)),
            checking: Arc::new(SingleFlight::new()),
            tokens: Arc::new(TtlCache::new(10_000, VERIFIED_TTL)),
            accounts: Arc::new(TtlCache::new(10_000, STANDING_TTL)),
            standing: Arc::new(TtlCache::new(50_000, STANDING_TTL)),
            keys: Arc::new(TtlCache::new(1, Duration::from_secs(60))),
            limiter: Arc::new(LoginLimiter::default()),
            hashing: Arc::new(Semaphore::new(CONCURRENT_HASHES)),
            cache_salt: rand::random(),
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

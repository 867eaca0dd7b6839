//! Authentication and authorization: who is calling, and whether the
//! static policy table lets them do what they ask.

mod credentials;
mod grants;
pub mod ldap;
mod ldap_login;
mod login_limit;
mod principal;
mod tokens;

use std::sync::Arc;
use std::time::Duration;

use berth_auth::{Scope, SigningKey};
use berth_core::{Error, RepoName, Result};
use berth_meta::{Meta, UserSource};
use sha2::{Digest as _, Sha256};
use tokio::sync::Semaphore;

pub use credentials::Credentials;
pub use grants::{Grant, ProjectAccess, RepoAction};
pub use principal::{Account, Caller, Principal, RobotAccount, RobotPermission};
pub use tokens::{TOKEN_ISSUER, TOKEN_SERVICE};

use crate::robots::{robot_account, robot_is_active, ROBOT_PREFIX};
use crate::settings::{AuthMode, Settings, SystemSettings};
use crate::ttl::TtlCache;
use crate::{errors, unix_now};
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
    /// Keyed by a salted hash of username and password.
    verified: Arc<TtlCache<[u8; 32], Principal>>,
    accounts: Arc<TtlCache<String, Option<Principal>>>,
    standing: Arc<TtlCache<(String, String), Option<ProjectAccess>>>,
    keys: Arc<TtlCache<(), Arc<Vec<SigningKey>>>>,
    limiter: Arc<LoginLimiter>,
    hashing: Arc<Semaphore>,
    cache_salt: [u8; 32],
}

impl Access {
    pub fn new(meta: Arc<dyn Meta>, settings: Settings) -> Access {
        Access {
            meta,
            settings,
            verified: Arc::new(TtlCache::new(10_000, VERIFIED_TTL)),
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
        self.accounts.clear();
        self.standing.clear();
    }

    /// Identifies the caller from the request's credentials, if any.
    pub async fn authenticate(&self, credentials: Option<Credentials>, client_address: &str) -> Result<Caller> {
        let mut caller = Caller::anonymous(client_address);
        match credentials {
            None => {}
            Some(Credentials::Basic { username, password }) => {
                caller.principal = self.check_password(&username, &password, client_address).await?;
            }
            Some(Credentials::Bearer(token)) => {
                let claims = self.verify_token(&token).await?;
                if !claims.sub.is_empty() {
                    caller.principal = self.active_principal(&claims.sub).await?.ok_or_else(|| {
                        Error::Unauthorized("the account this token was issued to is disabled, expired or gone".into())
                    })?;
                }
                caller.token_access = Some(claims.access);
            }
        }
        Ok(caller)
    }

    /// The enabled user or unexpired robot with this name, if any.
    async fn active_principal(&self, name: &str) -> Result<Option<Principal>> {
        if let Some(hit) = self.accounts.get(&name.to_owned()) {
            return Ok(hit);
        }
        let principal = if name.starts_with(ROBOT_PREFIX) {
            let robot = self.meta.robot_by_name(name).await.map_err(errors::meta)?;
            match robot.filter(|r| robot_is_active(r, unix_now())) {
                Some(r) => Some(Principal::Robot(Arc::new(robot_account(&r)?))),
                None => None,
            }
        } else {
            let user = self.meta.user_by_name(name).await.map_err(errors::meta)?;
            user.filter(|u| !u.disabled)
                .map(|u| Principal::User(Arc::new(Account { id: u.id, username: u.username, sysadmin: u.sysadmin })))
        };
        self.accounts.insert(name.to_owned(), principal.clone());
        Ok(principal)
    }

    /// The password hash that `username`'s password must match, and who
    /// that is, if the account may sign in at all.
    async fn stored_secret(&self, username: &str) -> Result<Option<(String, Principal)>> {
        if username.starts_with(ROBOT_PREFIX) {
            let robot = self.meta.robot_by_name(username).await.map_err(errors::meta)?;
            return match robot.filter(|r| robot_is_active(r, unix_now())) {
                Some(r) => Ok(Some((r.secret_hash.clone(), Principal::Robot(Arc::new(robot_account(&r)?))))),
                None => Ok(None),
            };
        }
        let user = self.meta.user_by_name(username).await.map_err(errors::meta)?;
        Ok(user.filter(|u| u.source == UserSource::Local && !u.disabled).and_then(|u| {
            let account = Account { id: u.id, username: u.username, sysadmin: u.sysadmin };
            u.password_hash.map(|h| (h, Principal::User(Arc::new(account))))
        }))
    }

    /// Checks a username (or robot name) and password (or robot secret),
    /// throttling repeated failures.
    pub async fn check_password(&self, username: &str, password: &str, client_address: &str) -> Result<Principal> {
        if let Err(wait) = self.limiter.check(username, client_address) {
            return Err(Error::TooManyRequests(format!("too many failed logins; try again in {wait} seconds")));
        }
        let key = self.credential_key(username, password);
        if let Some(account) = self.verified.get(&key) {
            return Ok(account);
        }
        let settings = self.settings.current().await?;
        let verified = if uses_ldap(&settings, username) {
            self.check_ldap(&settings, username, password).await?
        } else {
            let stored = self.stored_secret(username).await?;
            let matches = self.verify_hash(password, stored.as_ref().map(|(hash, _)| hash.clone())).await?;
            stored.filter(|_| matches).map(|(_, principal)| principal)
        };
        match verified {
            Some(principal) => {
                self.limiter.succeeded(username);
                self.verified.insert(key, principal.clone());
                Ok(principal)
            }
            _ => {
                self.limiter.failed(username, client_address);
                Err(Error::Unauthorized("invalid username or password".into()))
            }
        }
    }

    /// Runs argon2 off the async threads. Without a stored hash a dummy one
    /// is checked, so unknown usernames take as long as wrong passwords.
    async fn verify_hash(&self, password: &str, hash: Option<String>) -> Result<bool> {
        let _permit = self.hashing.acquire().await.map_err(Error::internal)?;
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| dummy_hash().to_owned());
        let password = password.to_owned();
        let ok = tokio::task::spawn_blocking(move || berth_auth::verify_password(&password, &hash))
            .await
            .map_err(Error::internal)?;
        Ok(ok && known)
    }

    fn credential_key(&self, username: &str, password: &str) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(self.cache_salt);
        h.update(username.to_lowercase().as_bytes());
        h.update([0]);
        h.update(password.as_bytes());
        h.finalize().into()
    }

    /// Whether the caller may perform `action` on `repo` through `/v2/`.
    ///
    /// A token is judged by what it carries. When it lacks the action but
    /// the caller could get it, the answer is `Unauthorized` so the client
    /// fetches a token with a wider scope; otherwise `Denied`.
    pub async fn authorize_repository(&self, caller: &Caller, repo: &RepoName, action: RepoAction) -> Result<()> {
        if let Some(access) = &caller.token_access {
            if token_allows(access, "repository", repo.as_str(), action.as_str()) {
                return Ok(());
            }
        }
        let standing = self.project_access(&caller.principal, repo.project()).await?;
        let live = standing.as_ref().map(|s| s.repository_grant()).unwrap_or_default();
        match (live.allows(action), &caller.token_access) {
            (true, None) => Ok(()),
            (true, Some(_)) => Err(Error::Unauthorized(format!(
                "the token does not grant {} on {repo}; request one that does",
                action.as_str()
            ))),
            (false, _) if standing.is_none() && caller.principal.is_sysadmin() => {
                Err(Error::NameUnknown(format!("project '{}' does not exist; create it first", repo.project())))
            }
            (false, _) => Err(match &caller.principal {
                Principal::Anonymous => Error::Unauthorized(format!(
                    "sign in to {} {repo}: anonymous access is not allowed",
                    action.as_str()
                )),
                p => Error::Denied(format!(
                    "requested access to the resource is denied: '{}' may not {} {repo}",
                    p.name(),
                    action.as_str()
                )),
            }),
        }
    }

    /// Listing every repository is for system admins.
    pub fn authorize_catalog(&self, caller: &Caller) -> Result<()> {
        let allowed = match &caller.token_access {
            Some(access) => token_allows(access, "registry", "catalog", "*"),
            None => caller.principal.is_sysadmin(),
        };
        match (allowed, &caller.principal) {
            (true, _) => Ok(()),
            (false, Principal::Anonymous) => Err(Error::Unauthorized("sign in to list repositories".into())),
            (false, _) if caller.token_access.is_some() && caller.principal.is_sysadmin() => {
                Err(Error::Unauthorized("the token does not grant catalog access".into()))
            }
            (false, _) => Err(Error::Denied("only system administrators may list every repository".into())),
        }
    }
}

fn token_allows(access: &[Scope], kind: &str, name: &str, action: &str) -> bool {
    access.iter().any(|s| s.kind == kind && s.name == name && s.actions.iter().any(|a| a == action || a == "*"))
}

/// In LDAP mode every account but robots and the built-in admin signs in
/// against the directory.
fn uses_ldap(settings: &SystemSettings, username: &str) -> bool {
    settings.auth_mode == AuthMode::LdapAuth
        && !username.starts_with(ROBOT_PREFIX)
        && !username.eq_ignore_ascii_case(crate::bootstrap::ADMIN_USERNAME)
}

/// An argon2id hash of a random string nobody knows, made once per process.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| berth_auth::hash_password(&berth_auth::generate_secret()).unwrap_or_default())
}

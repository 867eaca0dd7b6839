//! Authentication: who a request's credentials identify (users, robots,
//! registry tokens), with throttling and a short cache of checked passwords.

use std::time::Instant;

use berth_core::{Error, Result};
use sha2::{Digest as _, Sha256};

use super::login_limit::Attempt;
use super::{Access, Caller, Credentials, Holder, Principal};
use crate::names::is_robot_name;
use crate::settings::{AuthMode, SystemSettings};

/// Where credentials are presented; each accepts only what it should.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    /// `/v2/`: Basic credentials, or a registry token granting exactly its
    /// `access` claims.
    Registry,
    /// `/api/v2.0`: Basic credentials (users and robots); registry tokens
    /// are refused, so a pull token is never a management login.
    Management,
    /// `/service/token`: Basic credentials or none; a token is never traded
    /// for another one.
    TokenService,
}

impl Access {
    /// Identifies the caller from the request's credentials, if any.
    pub async fn authenticate(
        &self,
        credentials: Option<Credentials>,
        client_address: &str,
        surface: Surface,
    ) -> Result<Caller> {
        let mut caller = Caller::anonymous(client_address);
        match (credentials, surface) {
            (None, _) => {}
            (Some(Credentials::Basic { username, password }), _) => {
                caller.principal = self.check_password(&username, &password, client_address).await?;
            }
            (Some(Credentials::Bearer(_)), Surface::Management) => {
                return Err(Error::Unauthorized(
                    "the management API does not accept registry tokens; sign in with a username and password \
                     (or a robot's name and secret)"
                        .into(),
                ));
            }
            (Some(Credentials::Bearer(_)), Surface::TokenService) => {
                return Err(Error::Unauthorized(
                    "a registry token cannot be exchanged for another token; sign in with a username and password, \
                     or use a refresh token"
                        .into(),
                ));
            }
            (Some(Credentials::Bearer(token)), Surface::Registry) => {
                let claims = self.verify_token(&token).await?;
                caller.principal = self.token_holder(&claims).await?;
                caller.token_access = Some(claims.access.clone());
            }
        }
        Ok(caller)
    }

    /// The account a verified token acts for, as it is now: anonymous for
    /// anonymous tokens, refused when the account changed its credentials.
    async fn token_holder(&self, claims: &berth_auth::Claims) -> Result<Principal> {
        let Some(account) = &claims.account else {
            return match claims.sub.is_empty() {
                true => Ok(Principal::Anonymous),
                false => Err(Error::Unauthorized("the token names no account; sign in again".into())),
            };
        };
        let holder = Holder::from_token(account)
            .ok_or_else(|| Error::Unauthorized("the token names an unknown kind of account".into()))?;
        self.live(holder).await?.ok_or_else(|| {
            Error::Unauthorized(
                "the account this token was issued to has changed its credentials, or was disabled or deleted; \
                 sign in again"
                    .into(),
            )
        })
    }

    /// Checks a username (or robot name) and password (or robot secret),
    /// throttling repeated failures.
    pub async fn check_password(&self, username: &str, password: &str, client_address: &str) -> Result<Principal> {
        let key = self.credential_key(username, password);
        let attempt = Attempt { account: username, address: client_address, credential: key };
        let pending = self.limiter.check(&attempt, Instant::now())?;
        if let Some(principal) = self.remembered(&key).await? {
            pending.succeeded(Instant::now());
            return Ok(principal);
        }
        let _turn = self.checking.turn(key).await;
        if let Some(principal) = self.remembered(&key).await? {
            pending.succeeded(Instant::now());
            return Ok(principal);
        }
        let settings = self.settings.current().await?;
        let verified = if uses_ldap(&settings, username) {
            self.check_ldap(&settings, username, password).await?
        } else {
            let stored = self.stored_secret(username).await?;
            let matches = self.verify_hash(password, stored.as_ref().map(|(hash, _)| hash.clone())).await?;
            stored.filter(|_| matches).map(|(_, principal)| principal)
        };
        match verified.and_then(|p| p.holder().map(|h| (p, h))) {
            Some((principal, holder)) => {
                pending.succeeded(Instant::now());
                self.verified.insert(key, holder);
                Ok(principal)
            }
            None => {
                pending.failed(Instant::now());
                Err(Error::Unauthorized("invalid username or password".into()))
            }
        }
    }

    /// A credential checked moments ago, if the account it proved is still
    /// the same (same credential stamp, still enabled).
    async fn remembered(&self, key: &[u8; 32]) -> Result<Option<Principal>> {
        match self.verified.get(key) {
            Some(holder) => self.live(holder).await,
            None => Ok(None),
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
}

/// In LDAP mode every account but robots and the built-in admin signs in
/// against the directory.
fn uses_ldap(settings: &SystemSettings, username: &str) -> bool {
    settings.auth_mode == AuthMode::LdapAuth
        && !is_robot_name(username)
        && !username.eq_ignore_ascii_case(crate::bootstrap::ADMIN_USERNAME)
}

/// An argon2id hash of a random string nobody knows, made once per process.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| berth_auth::hash_password(&berth_auth::generate_secret()).unwrap_or_default())
}

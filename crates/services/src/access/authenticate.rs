//! Authentication: who a request's credentials identify (users, robots,
//! registry tokens), with throttling and a short cache of checked passwords.

use std::sync::Arc;

use berth_core::{Error, Result};
use berth_meta::UserSource;
use sha2::{Digest as _, Sha256};

use super::{Access, Account, Caller, Credentials, Principal};
use crate::names::is_robot_name;
use crate::robots::{robot_account, robot_is_active};
use crate::settings::{AuthMode, SystemSettings};
use crate::{errors, unix_now};

impl Access {
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
                caller.token_access = Some(claims.access.clone());
            }
        }
        Ok(caller)
    }

    /// The enabled user or unexpired robot with this name, if any.
    async fn active_principal(&self, name: &str) -> Result<Option<Principal>> {
        if let Some(hit) = self.accounts.get(&name.to_owned()) {
            return Ok(hit);
        }
        let principal = if is_robot_name(name) {
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
        if is_robot_name(username) {
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
        let _turn = self.checking.turn(key).await;
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

//! Registry tokens (Docker token authentication): issuing tokens that
//! carry exactly the granted actions, and checking presented ones.

use std::sync::Arc;

use sha2::{Digest as _, Sha256};

use berth_auth::{Claims, Issued, Scope, Subject};
use berth_core::{Error, RepoName, Result};

use super::{Access, Caller, Principal};
use crate::unix_now;

/// The `iss` of every token this server issues.
pub const TOKEN_ISSUER: &str = "berth-token-service";
/// The `service` clients name when asking for a token, and the tokens' `aud`.
pub const TOKEN_SERVICE: &str = "berth-registry";

impl Access {
    /// A token for `caller` holding the granted part of each requested scope.
    pub async fn issue_token(&self, caller: &Caller, requested: &[Scope]) -> Result<Issued> {
        let mut access = Vec::new();
        for scope in requested {
            let (name, actions) = self.granted_actions(&caller.principal, scope).await?;
            if !actions.is_empty() {
                access.push(Scope { kind: scope.kind.clone(), name, actions });
            }
        }
        let keys = self.signing_keys(false).await?;
        let key = keys.first().ok_or_else(|| Error::internal("no signing key"))?;
        let ttl = self.settings.current().await?.token_expiration * 60;
        let subject = match caller.principal.holder() {
            None => Subject { name: "", account: None },
            Some(holder) => Subject { name: caller.principal.name(), account: Some(holder.token_account()) },
        };
        berth_auth::issue(key, TOKEN_ISSUER, TOKEN_SERVICE, subject, access, ttl, unix_now() as u64)
            .map_err(Error::internal)
    }

    /// The name as the registry will see it (`alpine` is `library/alpine`)
    /// and the actions granted on it.
    async fn granted_actions(&self, who: &Principal, scope: &Scope) -> Result<(String, Vec<String>)> {
        let none = || (scope.name.clone(), vec![]);
        match scope.kind.as_str() {
            "repository" => {
                // Scopes for names that cannot exist are ignored, not errors,
                // as the token specification asks.
                let Ok(name) = scope.name.parse::<RepoName>() else { return Ok(none()) };
                let name = name.in_default_project();
                let standing = self.project_access(who, name.project()).await?;
                let actions = standing.map(|s| s.repository_grant().filter(&scope.actions)).unwrap_or_default();
                Ok((name.as_str().to_owned(), actions))
            }
            "registry" if scope.name == "catalog" && who.is_sysadmin() => {
                Ok((scope.name.clone(), scope.actions.iter().filter(|a| *a == "*").cloned().collect()))
            }
            _ => Ok(none()),
        }
    }

    /// Checks a presented token and returns its claims.
    /// Verified tokens are remembered (by hash) until they expire, so a
    /// client reusing one pays for the signature check once.
    pub(crate) async fn verify_token(&self, token: &str) -> Result<Arc<Claims>> {
        let now = unix_now() as u64;
        let key: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        if let Some(claims) = self.tokens.get(&key).filter(|c| c.exp > now) {
            return Ok(claims);
        }
        let claims = Arc::new(self.verify_signed(token, now).await?);
        self.tokens.insert(key, claims.clone());
        Ok(claims)
    }

    async fn verify_signed(&self, token: &str, now: u64) -> Result<Claims> {
        let keys = self.signing_keys(false).await?;
        match berth_auth::verify(&keys, token, TOKEN_ISSUER, TOKEN_SERVICE, now) {
            Ok(claims) => Ok(claims),
            // Another node may have rotated the key moments ago.
            Err(_) if keys.len() < 8 => {
                let keys = self.signing_keys(true).await?;
                berth_auth::verify(&keys, token, TOKEN_ISSUER, TOKEN_SERVICE, now)
                    .map_err(|e| Error::Unauthorized(e.to_string()))
            }
            Err(e) => Err(Error::Unauthorized(e.to_string())),
        }
    }
}

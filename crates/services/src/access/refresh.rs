//! OAuth2 refresh tokens, as Docker and containerd use them (`offline_token`
//! on the token endpoint, then `grant_type=refresh_token`): long-lived,
//! stored only as a hash, bound to one account and its credential stamp, so
//! a password change, a new robot secret, disabling or deleting the account
//! revokes every one of them.

use base64::Engine;
use sha2::{Digest as _, Sha256};

use berth_core::{Error, Result};
use berth_meta::RefreshTokenRecord;

use super::{Access, Caller, Holder};
use crate::{errors, unix_now};

/// A refresh token unused for this many days expires.
pub const REFRESH_IDLE_DAYS: i64 = 30;
/// Every refresh token starts with this, so one pasted in the wrong place is
/// recognisable (and a secret scanner can find it).
const PREFIX: &str = "berth_rt_";
/// Refresh tokens are 9 + 43 characters; anything much longer is not one.
const MAX_TOKEN_BYTES: usize = 128;

fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

fn refused() -> Error {
    Error::Unauthorized("the refresh token is unknown, expired or revoked; sign in again".into())
}

impl Access {
    /// A new refresh token for the caller's account; anonymous callers get none.
    pub async fn issue_refresh_token(&self, caller: &Caller) -> Result<String> {
        let holder =
            caller.principal.holder().ok_or_else(|| Error::Unauthorized("sign in to get a refresh token".into()))?;
        let token =
            format!("{PREFIX}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>()));
        let now = unix_now();
        let record = RefreshTokenRecord {
            token_hash: token_hash(&token),
            account_kind: holder.kind,
            account_id: holder.id,
            stamp: holder.stamp,
            created_at: now,
            expires_at: now + REFRESH_IDLE_DAYS * 86_400,
        };
        self.meta.add_refresh_token(&record).await.map_err(errors::meta)?;
        Ok(token)
    }

    /// The caller a refresh token stands for: its account as it is now,
    /// provided the account's credentials have not changed since.
    pub async fn redeem_refresh_token(&self, token: &str, client_address: &str) -> Result<Caller> {
        if token.len() > MAX_TOKEN_BYTES || !token.starts_with(PREFIX) {
            return Err(refused());
        }
        let hash = token_hash(token);
        let now = unix_now();
        let used = self.meta.use_refresh_token(&hash, now, now + REFRESH_IDLE_DAYS * 86_400).await;
        let record = used.map_err(errors::meta)?.ok_or_else(refused)?;
        let holder = Holder { kind: record.account_kind, id: record.account_id, stamp: record.stamp };
        match self.live(holder).await? {
            Some(principal) => Ok(Caller { principal, client_address: client_address.to_owned(), token_access: None }),
            None => {
                // The account changed: the token can never work again.
                self.meta.delete_refresh_token(&hash).await.map_err(errors::meta)?;
                Err(refused())
            }
        }
    }

    /// Deletes refresh tokens that expired; for housekeeping.
    pub async fn purge_refresh_tokens(&self) -> Result<u64> {
        self.meta.purge_refresh_tokens(unix_now()).await.map_err(errors::meta)
    }
}

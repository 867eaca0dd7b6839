//! The refresh tokens port: long-lived OAuth2 refresh tokens, stored only
//! as a hash, each bound to one account and its credential stamp.

use async_trait::async_trait;

use crate::MetaResult;

/// The kind of account a credential belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AccountKind {
    User,
    Robot,
}

impl AccountKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountKind::User => "user",
            AccountKind::Robot => "robot",
        }
    }

    /// The kind named by [`AccountKind::as_str`].
    pub fn parse(s: &str) -> Option<AccountKind> {
        match s {
            "user" => Some(AccountKind::User),
            "robot" => Some(AccountKind::Robot),
            _ => None,
        }
    }
}

/// A stored refresh token.
#[derive(Clone, PartialEq, Eq)]
pub struct RefreshTokenRecord {
    /// SHA-256 of the token; the token itself is never stored.
    pub token_hash: [u8; 32],
    pub account_kind: AccountKind,
    pub account_id: i64,
    /// The account's credential stamp when the token was issued.
    pub stamp: i64,
    pub created_at: i64,
    /// Unix seconds; each use pushes it forward.
    pub expires_at: i64,
}

impl std::fmt::Debug for RefreshTokenRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefreshTokenRecord")
            .field("account_kind", &self.account_kind)
            .field("account_id", &self.account_id)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

#[async_trait]
pub trait RefreshTokenMeta: Send + Sync + 'static {
    async fn add_refresh_token(&self, token: &RefreshTokenRecord) -> MetaResult<()>;

    /// The unexpired token with this hash, its expiry moved to `expires_at`
    /// in the same write; `None` if unknown or expired at `now`.
    async fn use_refresh_token(
        &self,
        token_hash: &[u8; 32],
        now: i64,
        expires_at: i64,
    ) -> MetaResult<Option<RefreshTokenRecord>>;

    /// Revokes one token; false if it did not exist.
    async fn delete_refresh_token(&self, token_hash: &[u8; 32]) -> MetaResult<bool>;

    /// Revokes every token of one account; returns how many.
    async fn delete_refresh_tokens_of(&self, kind: AccountKind, account_id: i64) -> MetaResult<u64>;

    /// Deletes tokens that expired before `before`; returns how many.
    async fn purge_refresh_tokens(&self, before: i64) -> MetaResult<u64>;
}

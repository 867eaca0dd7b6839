//! System settings and token signing keys.

use async_trait::async_trait;

use crate::MetaResult;

/// A key that signs registry tokens.
#[derive(Clone, PartialEq)]
pub struct SigningKeyRecord {
    pub kid: String,
    /// The key's secret, sealed by the services before it reaches the
    /// database (older versions stored it raw).
    pub secret: Vec<u8>,
    pub created_at: i64,
}

impl std::fmt::Debug for SigningKeyRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKeyRecord").field("kid", &self.kid).finish_non_exhaustive()
    }
}

#[async_trait]
pub trait SettingsMeta: Send + Sync + 'static {
    /// Every stored setting as (key, value) text, by key.
    async fn settings(&self) -> MetaResult<Vec<(String, String)>>;

    /// Stores all `pairs` in one transaction.
    async fn put_settings(&self, pairs: &[(String, String)]) -> MetaResult<()>;

    /// Signing keys, most recently added first.
    async fn signing_keys(&self) -> MetaResult<Vec<SigningKeyRecord>>;

    async fn add_signing_key(&self, key: &SigningKeyRecord) -> MetaResult<()>;

    /// Removes one key; false if there was none with this id.
    async fn delete_signing_key(&self, kid: &str) -> MetaResult<bool>;

    /// Rewrites storage so values deleted or replaced earlier no longer
    /// linger in free space (after plaintext secrets were sealed).
    async fn reclaim_free_space(&self) -> MetaResult<()>;

    /// Removes keys created before `before` except the newest one.
    async fn prune_signing_keys(&self, before: i64) -> MetaResult<u64>;
}

//! The keys that sign registry tokens: stored sealed (a copy of the
//! database alone cannot mint a token), created at first start, rotated on
//! request, shared by every node through the database.

use std::sync::Arc;

use berth_auth::{SealingKey, SigningKey};
use berth_core::{Error, Result};
use berth_meta::SigningKeyRecord;

use super::Access;
use crate::access::Caller;
use crate::audit::AuditEvent;
use crate::{errors, unix_now};

fn context(kid: &str) -> String {
    format!("signing-key:{kid}")
}

impl Access {
    /// Signing keys, newest first.
    pub(crate) async fn signing_keys(&self, reload: bool) -> Result<Arc<Vec<SigningKey>>> {
        if !reload {
            if let Some(keys) = self.keys.get(&()) {
                return Ok(keys);
            }
        }
        let stored = self.meta.signing_keys().await.map_err(errors::meta)?;
        let keys = stored.into_iter().map(|k| self.open_key(k)).collect::<Result<Vec<_>>>()?;
        if keys.is_empty() {
            return Err(Error::internal("no token signing key is stored; the server creates one when it starts"));
        }
        let keys = Arc::new(keys);
        self.keys.insert((), keys.clone());
        Ok(keys)
    }

    fn open_key(&self, record: SigningKeyRecord) -> Result<SigningKey> {
        let sealed = String::from_utf8(record.secret).unwrap_or_default();
        let secret = self.sealing.open(&sealed, &context(&record.kid)).map_err(Error::internal)?;
        Ok(SigningKey::from_parts(record.kid, secret))
    }

    /// Readies the signing keys when the server starts: keys an older
    /// version stored unsealed are dropped (their tokens named no account
    /// and are refused anyway), the first key is created, and every stored
    /// key must open with this server's secret key. Whether unsealed keys
    /// were dropped.
    pub async fn prepare_signing_keys(&self) -> Result<bool> {
        let mut dropped = false;
        for record in self.meta.signing_keys().await.map_err(errors::meta)? {
            if !std::str::from_utf8(&record.secret).is_ok_and(SealingKey::is_sealed) {
                self.meta.delete_signing_key(&record.kid).await.map_err(errors::meta)?;
                tracing::info!(kid = %record.kid, "dropped a token signing key stored unsealed by an older version");
                dropped = true;
            }
        }
        if self.meta.signing_keys().await.map_err(errors::meta)?.is_empty() {
            self.add_signing_key().await?;
        }
        self.signing_keys(true).await.map(|_| dropped).map_err(|e| {
            Error::Invalid(format!(
                "{e}: the secret key does not open the stored token signing keys; start with the secret key \
                 file this database was used with"
            ))
        })
    }

    /// Starts signing with a new key, at an admin's request. Older keys
    /// keep verifying until the tokens they signed have expired.
    pub async fn rotate_signing_key(&self, caller: &Caller) -> Result<()> {
        caller.require_sysadmin("rotate the token signing key")?;
        self.add_signing_key().await?;
        let event = AuditEvent::by(caller, None, "token signing key".into(), "configuration", "rotate");
        self.audit.record(event).await;
        Ok(())
    }

    /// A fresh signing key, sealed for storage.
    pub fn new_signing_key(&self) -> SigningKeyRecord {
        let key = SigningKey::generate();
        let sealed = self.sealing.seal(key.secret(), &context(&key.kid));
        SigningKeyRecord { kid: key.kid.clone(), secret: sealed.into_bytes(), created_at: unix_now() }
    }

    /// Adds a key that signs from now on, and prunes keys whose tokens
    /// have all expired.
    async fn add_signing_key(&self) -> Result<()> {
        self.meta.add_signing_key(&self.new_signing_key()).await.map_err(errors::meta)?;
        let max_lifetime = self.settings.current().await?.token_expiration as i64 * 60;
        self.meta.prune_signing_keys(unix_now() - max_lifetime - 60).await.map_err(errors::meta)?;
        self.keys.clear();
        Ok(())
    }
}

//! System-wide settings, stored in the database under Harbor's
//! configuration names so every node sees the same values.

mod ldap_change;

use std::sync::Arc;
use std::time::Duration;

use berth_auth::SealingKey;
use berth_core::{Error, Result};
use berth_meta::Meta;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::access::Caller;
use crate::audit::{Audit, AuditEvent};
use crate::errors;
use crate::ttl::TtlCache;

/// How long a node trusts its copy of the settings.
const TTL: Duration = Duration::from_secs(5);
/// The longest a registry token may live, in minutes.
const MAX_TOKEN_MINUTES: u64 = 24 * 60;
/// The longest audit entries may be kept, in hours.
const MAX_RETENTION_HOURS: u64 = 10 * 366 * 24;
/// Settings stored sealed: a copy of the database alone does not reveal them.
const SEALED: [&str; 1] = ["ldap_search_password"];

/// Where passwords are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthMode {
    DbAuth,
    LdapAuth,
}

/// Who may create projects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProjectCreation {
    Everyone,
    AdminOnly,
}

/// A setting that must not appear in logs or debug output.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Secret {
        Secret(s.to_owned())
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Every system setting, with Harbor's names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SystemSettings {
    pub auth_mode: AuthMode,
    /// Lifetime of registry tokens, in minutes.
    pub token_expiration: u64,
    pub project_creation_restriction: ProjectCreation,
    /// Audit entries older than this many hours are purged.
    pub audit_retention_hour: u64,
    pub ldap_url: String,
    pub ldap_base_dn: String,
    pub ldap_filter: String,
    pub ldap_uid: String,
    /// 0 base, 1 one level, 2 subtree.
    pub ldap_scope: u8,
    pub ldap_search_dn: String,
    /// Never returned by the API nor shown by `Debug`.
    pub ldap_search_password: Secret,
    pub ldap_timeout: u64,
    pub ldap_verify_cert: bool,
    pub ldap_group_base_dn: String,
    pub ldap_group_search_filter: String,
    pub ldap_group_attribute_name: String,
    /// Members of this group are system admins.
    pub ldap_group_admin_dn: String,
    pub ldap_group_membership_attribute: String,
}

impl Default for SystemSettings {
    fn default() -> Self {
        SystemSettings {
            auth_mode: AuthMode::DbAuth,
            token_expiration: 30,
            project_creation_restriction: ProjectCreation::Everyone,
            audit_retention_hour: 24 * 30,
            ldap_url: String::new(),
            ldap_base_dn: String::new(),
            ldap_filter: String::new(),
            ldap_uid: "uid".into(),
            ldap_scope: 2,
            ldap_search_dn: String::new(),
            ldap_search_password: Secret::default(),
            ldap_timeout: 5,
            ldap_verify_cert: true,
            ldap_group_base_dn: String::new(),
            ldap_group_search_filter: String::new(),
            ldap_group_attribute_name: "cn".into(),
            ldap_group_admin_dn: String::new(),
            ldap_group_membership_attribute: "memberof".into(),
        }
    }
}

/// Reads and changes the system settings.
#[derive(Clone)]
pub struct Settings {
    meta: Arc<dyn Meta>,
    audit: Audit,
    cache: Arc<TtlCache<(), Arc<SystemSettings>>>,
    sealing: Arc<SealingKey>,
}

impl Settings {
    pub fn new(meta: Arc<dyn Meta>, audit: Audit, sealing: Arc<SealingKey>) -> Settings {
        Settings { meta, audit, cache: Arc::new(TtlCache::new(1, TTL)), sealing }
    }

    /// A stored value as the settings use it: sealed ones opened.
    fn stored_value(&self, key: &str, text: &str) -> Result<Option<Value>> {
        let Ok(value) = serde_json::from_str::<Value>(text) else { return Ok(None) };
        match value {
            Value::String(s) if SEALED.contains(&key) && SealingKey::is_sealed(&s) => {
                let plain = self.sealing.open(&s, &sealing_context(key)).map_err(Error::internal)?;
                Ok(Some(Value::String(String::from_utf8(plain).map_err(Error::internal)?)))
            }
            v => Ok(Some(v)),
        }
    }

    /// A value as it is stored: secret settings sealed.
    fn value_to_store(&self, key: &str, value: &Value) -> String {
        match value {
            Value::String(s) if SEALED.contains(&key) && !s.is_empty() => {
                Value::String(self.sealing.seal(s.as_bytes(), &sealing_context(key))).to_string()
            }
            v => v.to_string(),
        }
    }

    /// Seals secret settings an older version stored as plaintext; run when
    /// the server starts. Whether there were any.
    pub async fn seal_stored_secrets(&self) -> Result<bool> {
        let mut sealed_any = false;
        for (key, text) in self.meta.settings().await.map_err(errors::meta)? {
            let plaintext = match serde_json::from_str::<Value>(&text) {
                Ok(v @ Value::String(_)) if SEALED.contains(&key.as_str()) => v,
                _ => continue,
            };
            if plaintext.as_str().is_some_and(|s| !s.is_empty() && !SealingKey::is_sealed(s)) {
                let sealed = self.value_to_store(&key, &plaintext);
                self.meta.put_settings(&[(key.clone(), sealed)]).await.map_err(errors::meta)?;
                tracing::info!(setting = %key, "sealed a secret setting stored as plaintext by an older version");
                sealed_any = true;
            }
        }
        self.cache.clear();
        Ok(sealed_any)
    }

    /// The current settings; at most a few seconds old.
    pub async fn current(&self) -> Result<Arc<SystemSettings>> {
        if let Some(s) = self.cache.get(&()) {
            return Ok(s);
        }
        let mut merged = match serde_json::to_value(SystemSettings::default()) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        };
        for (key, text) in self.meta.settings().await.map_err(errors::meta)? {
            if merged.contains_key(&key) {
                if let Some(v) = self.stored_value(&key, &text)? {
                    merged.insert(key, v);
                }
            }
        }
        let settings: SystemSettings = serde_json::from_value(Value::Object(merged)).map_err(Error::internal)?;
        let settings = Arc::new(settings);
        self.cache.insert((), settings.clone());
        Ok(settings)
    }

    /// Checks that the LDAP server answers with the stored LDAP settings,
    /// overridden by `changes` (which are not stored).
    pub async fn ping_ldap(&self, changes: &Map<String, Value>) -> Result<()> {
        let stored = self.current().await?;
        let candidate = applied(&stored, changes)?;
        ldap_change::check_password_destination(&stored, &candidate, changes)?;
        crate::access::ldap::ping(&candidate).await
    }

    /// Applies `changes` (a JSON object of setting names to values) after
    /// checking every name and type; nothing is stored if any is wrong.
    pub async fn update(&self, caller: &Caller, changes: &Map<String, Value>) -> Result<SystemSettings> {
        let current = self.current().await?;
        let updated = applied(&current, changes)?;
        if updated.auth_mode != current.auth_mode && self.meta.count_users().await.map_err(errors::meta)? > 1 {
            return Err(Error::PreconditionFailed(
                "the authentication mode can only be changed while no user other than admin exists".into(),
            ));
        }
        if !(1..=MAX_TOKEN_MINUTES).contains(&updated.token_expiration) {
            return Err(Error::Invalid(format!(
                "token_expiration must be 1 to {MAX_TOKEN_MINUTES} minutes (one day); registry tokens are short-lived"
            )));
        }
        if !(1..=MAX_RETENTION_HOURS).contains(&updated.audit_retention_hour) {
            return Err(Error::Invalid(format!("audit_retention_hour must be 1 to {MAX_RETENTION_HOURS} (ten years)")));
        }
        ldap_change::check_update(&current, &updated, changes)?;
        let pairs: Vec<(String, String)> =
            changes.iter().map(|(k, v)| (k.clone(), self.value_to_store(k, v))).collect();
        self.meta.put_settings(&pairs).await.map_err(errors::meta)?;
        self.cache.clear();
        let names: Vec<&str> = changes.keys().map(String::as_str).collect();
        self.audit.record(AuditEvent::by(caller, None, names.join(","), "configuration", "update")).await;
        Ok(updated)
    }
}

/// Where a sealed setting belongs: it opens only as this setting.
fn sealing_context(key: &str) -> String {
    format!("setting:{key}")
}

/// `stored` with `changes` applied; unknown names and wrong types are refused.
fn applied(stored: &SystemSettings, changes: &Map<String, Value>) -> Result<SystemSettings> {
    let mut merged = match serde_json::to_value(stored) {
        Ok(Value::Object(m)) => m,
        _ => return Err(Error::internal("settings do not serialize to an object")),
    };
    for (key, value) in changes {
        if !merged.contains_key(key) {
            return Err(Error::Invalid(format!("unknown configuration item '{key}'")));
        }
        merged.insert(key.clone(), value.clone());
    }
    serde_json::from_value(Value::Object(merged))
        .map_err(|e| Error::Invalid(format!("invalid configuration value: {e}")))
}

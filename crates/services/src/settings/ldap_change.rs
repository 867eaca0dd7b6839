//! Rules for a request that changes LDAP settings: every `ldap_*` setting
//! is checked before anything is stored.

use berth_core::Result;
use serde_json::{Map, Value};

use super::{AuthMode, SystemSettings};
use crate::access::ldap;

/// Checks the LDAP part of `candidate`, the stored settings with `changes`
/// applied, when the change concerns LDAP. In LDAP mode the settings must be
/// complete enough to sign in with; otherwise each one given must be well
/// formed, so they can be filled in over several requests.
pub(super) fn check_update(
    stored: &SystemSettings,
    candidate: &SystemSettings,
    changes: &Map<String, Value>,
) -> Result<()> {
    let switches_to_ldap = candidate.auth_mode == AuthMode::LdapAuth && stored.auth_mode != AuthMode::LdapAuth;
    if !switches_to_ldap && !changes.keys().any(|k| k.starts_with("ldap_")) {
        return Ok(());
    }
    ldap::check_settings(candidate, candidate.auth_mode == AuthMode::LdapAuth)
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_core::Error;

    fn changes(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn updates_are_checked_only_when_they_concern_ldap() {
        let broken = SystemSettings { ldap_url: "not a url".into(), ..Default::default() };
        assert!(check_update(&broken, &broken, &changes(serde_json::json!({ "token_expiration": 5 }))).is_ok());
        let m = check_update(&broken, &broken, &changes(serde_json::json!({ "ldap_timeout": 5 })));
        assert!(matches!(m, Err(Error::Invalid(m)) if m.contains("ldap_url")));
        let ldap_mode = SystemSettings { auth_mode: AuthMode::LdapAuth, ..Default::default() };
        let m = check_update(
            &SystemSettings::default(),
            &ldap_mode,
            &changes(serde_json::json!({ "auth_mode": "ldap_auth" })),
        );
        assert!(matches!(m, Err(Error::Invalid(m)) if m.contains("ldap_url is empty")));
    }
}

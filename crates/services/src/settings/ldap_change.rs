//! Rules for a request that changes or tries LDAP settings: every `ldap_*`
//! setting is checked before anything is stored, and the stored search
//! password never goes where a request says.

use berth_core::{Error, Result};
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
    check_password_destination(stored, candidate, changes)?;
    ldap::check_settings(candidate, candidate.auth_mode == AuthMode::LdapAuth)
}

/// The stored search password is only ever sent to the stored URL, bound as
/// the stored DN. A request that points either elsewhere must bring the
/// password itself; otherwise anyone able to change settings could have the
/// stored password sent, in cleartext with `ldap://`, to a server of their
/// choosing. Without a search DN no password is sent, so none is needed.
pub(super) fn check_password_destination(
    stored: &SystemSettings,
    candidate: &SystemSettings,
    changes: &Map<String, Value>,
) -> Result<()> {
    let moved = stored.ldap_url.trim() != candidate.ldap_url.trim()
        || stored.ldap_search_dn.trim() != candidate.ldap_search_dn.trim();
    let would_send_stored = !changes.contains_key("ldap_search_password")
        && !stored.ldap_search_password.is_empty()
        && !candidate.ldap_search_dn.trim().is_empty();
    if moved && would_send_stored {
        return Err(Error::Invalid(
            "ldap_search_password is required when ldap_url or ldap_search_dn changes: \
             the stored password is only sent to the stored server as the stored search DN"
                .into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Secret;

    fn stored() -> SystemSettings {
        SystemSettings {
            ldap_url: "ldap://directory:389".into(),
            ldap_base_dn: "dc=x".into(),
            ldap_search_dn: "cn=search,dc=x".into(),
            ldap_search_password: Secret::from("Stored-Secret-1"),
            ..Default::default()
        }
    }

    fn changes(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    fn refused(candidate: SystemSettings, request: Value) -> bool {
        match check_password_destination(&stored(), &candidate, &changes(request)) {
            Err(Error::Invalid(m)) => m.contains("ldap_search_password is required"),
            Err(e) => panic!("unexpected {e:?}"),
            Ok(()) => false,
        }
    }

    #[test]
    fn the_stored_password_stays_with_the_stored_url_and_dn() {
        let elsewhere = SystemSettings { ldap_url: "ldap://attacker:389".into(), ..stored() };
        assert!(refused(elsewhere.clone(), serde_json::json!({ "ldap_url": "ldap://attacker:389" })));
        let given = SystemSettings { ldap_search_password: Secret::from("Given-1"), ..elsewhere };
        assert!(!refused(
            given,
            serde_json::json!({ "ldap_url": "ldap://attacker:389", "ldap_search_password": "Given-1" })
        ));
        let other_dn = SystemSettings { ldap_search_dn: "cn=other,dc=x".into(), ..stored() };
        assert!(refused(other_dn, serde_json::json!({ "ldap_search_dn": "cn=other,dc=x" })));
        // Same URL and DN (spacing aside): the stored password may be used.
        let same = SystemSettings { ldap_url: " ldap://directory:389 ".into(), ldap_timeout: 1, ..stored() };
        assert!(!refused(same, serde_json::json!({ "ldap_url": " ldap://directory:389 ", "ldap_timeout": 1 })));
        // An anonymous search sends no password at all.
        let anonymous = SystemSettings { ldap_url: "ldap://other".into(), ldap_search_dn: String::new(), ..stored() };
        assert!(!refused(anonymous, serde_json::json!({ "ldap_url": "ldap://other", "ldap_search_dn": "" })));
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

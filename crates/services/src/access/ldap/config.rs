//! The LDAP settings checked without contacting the server: one set of
//! rules for saving them (`PUT /configurations`), trying them
//! (`POST /ldap/ping`) and signing in, so a typo is reported as such when it
//! is made rather than as a puzzling server error at the next sign-in.

use std::time::Duration;

use berth_core::{Error, Result};
use ldap3::Scope;

use crate::settings::SystemSettings;

/// Used when `ldap_timeout` is 0, so a silent server cannot hold a login forever.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
const GROUPS: &str = "(objectClass=groupOfNames)";

/// Settings that passed every check, with the values derived from them.
pub(super) struct Config<'a> {
    pub(super) s: &'a SystemSettings,
    pub(super) scope: Scope,
    pub(super) timeout: Duration,
    pub(super) user_filter: String,
    pub(super) group_filter: String,
}

impl<'a> Config<'a> {
    /// Settings complete enough to search the directory.
    pub(super) fn new(s: &'a SystemSettings) -> Result<Config<'a>> {
        checked(s, true)
    }
}

/// Checks the form of every `ldap_*` setting. With `complete`, the settings
/// must also be usable for signing in: a URL, a base DN, and a password for
/// a search DN. Errors name the setting.
pub fn check_settings(s: &SystemSettings, complete: bool) -> Result<()> {
    checked(s, complete).map(drop)
}

fn invalid<T>(message: String) -> Result<T> {
    Err(Error::Invalid(message))
}

fn checked(s: &SystemSettings, complete: bool) -> Result<Config<'_>> {
    check_url(s.ldap_url.trim(), complete)?;
    check_dn("ldap_base_dn", &s.ldap_base_dn, complete)?;
    check_dn("ldap_search_dn", &s.ldap_search_dn, false)?;
    check_dn("ldap_group_base_dn", &s.ldap_group_base_dn, false)?;
    check_dn("ldap_group_admin_dn", &s.ldap_group_admin_dn, false)?;
    if complete && !s.ldap_search_dn.trim().is_empty() && s.ldap_search_password.is_empty() {
        return invalid("ldap_search_password is empty; a bind without a password would be anonymous".into());
    }
    let scope = match s.ldap_scope {
        0 => Scope::Base,
        1 => Scope::OneLevel,
        2 => Scope::Subtree,
        _ => return invalid("ldap_scope must be 0 (base), 1 (one level) or 2 (subtree)".into()),
    };
    check_attribute("ldap_uid", &s.ldap_uid, false)?;
    check_attribute("ldap_group_membership_attribute", &s.ldap_group_membership_attribute, true)?;
    check_attribute("ldap_group_attribute_name", &s.ldap_group_attribute_name, true)?;
    Ok(Config {
        s,
        scope,
        timeout: if s.ldap_timeout == 0 { DEFAULT_TIMEOUT } else { Duration::from_secs(s.ldap_timeout) },
        user_filter: checked_filter("ldap_filter", &s.ldap_filter, "(objectClass=*)")?,
        group_filter: checked_filter("ldap_group_search_filter", &s.ldap_group_search_filter, GROUPS)?,
    })
}

/// `ldap://` or `ldaps://`, a host, an optional port and nothing else: no
/// user info, path or query that would make the URL read as one server
/// and connect to another.
fn check_url(url: &str, required: bool) -> Result<()> {
    const FORM: &str = "ldap://host, ldap://host:389 or ldaps://host:636";
    if url.is_empty() {
        return if required { invalid(format!("ldap_url is empty; set it to {FORM}")) } else { Ok(()) };
    }
    let shown: String = url.chars().take(100).collect();
    let bad = || invalid(format!("ldap_url {shown:?} is not of the form {FORM}"));
    let Some(rest) = url.strip_prefix("ldap://").or_else(|| url.strip_prefix("ldaps://")) else {
        return bad();
    };
    // A bracketed IPv6 address holds colons of its own.
    let (host, port) = match rest.strip_prefix('[') {
        Some(v6) => match v6.split_once(']') {
            Some((addr, tail)) if addr.parse::<std::net::Ipv6Addr>().is_ok() => (addr, tail),
            _ => return bad(),
        },
        None => rest.split_at(rest.find(':').unwrap_or(rest.len())),
    };
    let host_ok = !host.is_empty()
        && (host.contains(':') || host.chars().all(|c| c.is_ascii_alphanumeric() || "-._".contains(c)));
    let port_ok = match port.strip_prefix(':') {
        None => port.is_empty(),
        Some(p) => p.chars().all(|c| c.is_ascii_digit()) && p.parse::<u16>().is_ok_and(|p| p > 0),
    };
    if host_ok && port_ok {
        Ok(())
    } else {
        bad()
    }
}

/// A distinguished name as RFC 4514 writes it: `attr=value` parts joined by
/// `,` (or `+` within one RDN), attribute types as names or OIDs, special
/// characters in values escaped.
fn check_dn(setting: &str, dn: &str, required: bool) -> Result<()> {
    let dn = dn.trim();
    if dn.is_empty() {
        return if required {
            invalid(format!("{setting} is empty; set it to a DN such as dc=example,dc=com"))
        } else {
            Ok(())
        };
    }
    let shown: String = dn.chars().take(100).collect();
    let bad = |why: &str| invalid(format!("{setting} {shown:?} is not a valid DN: {why}"));
    let mut parts = Vec::new();
    let mut part = String::new();
    let mut chars = dn.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(e) if "\\,+\"<>;=# ".contains(e) => part.push('_'),
                Some(h) if h.is_ascii_hexdigit() && chars.next().is_some_and(|l| l.is_ascii_hexdigit()) => {
                    part.push('_')
                }
                _ => return bad("a backslash must escape a special character or two hex digits"),
            },
            ',' | '+' | ';' => parts.push(std::mem::take(&mut part)),
            c if c.is_control() => return bad("it holds a control character"),
            '"' | '<' | '>' => return bad("quotes and angle brackets must be escaped"),
            c => part.push(c),
        }
    }
    parts.push(part);
    for p in &parts {
        let Some((attr, _value)) = p.split_once('=') else { return bad("every part must be attribute=value") };
        let attr = attr.trim();
        let name = attr.starts_with(|c: char| c.is_ascii_alphabetic())
            && attr.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        let oid = !attr.is_empty() && attr.split('.').all(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
        if !name && !oid {
            return bad("attribute types are names like dc or numeric OIDs");
        }
    }
    Ok(())
}

/// Attribute names go into filters verbatim, so only real names are accepted.
fn check_attribute(setting: &str, name: &str, may_be_empty: bool) -> Result<()> {
    let ok = name.chars().all(|c| c.is_ascii_alphanumeric() || "-.;".contains(c)) && (may_be_empty || !name.is_empty());
    ok.then_some(())
        .ok_or_else(|| Error::Invalid(format!("{setting} must be an attribute name like uid, not {name:?}")))
}

/// Harbor accepts filters without the outer parentheses; they are added here.
fn normalize_filter(filter: &str, default: &str) -> String {
    match filter.trim() {
        "" => default.to_owned(),
        f if f.starts_with('(') => f.to_owned(),
        f => format!("({f})"),
    }
}

fn checked_filter(setting: &str, filter: &str, default: &str) -> Result<String> {
    let f = normalize_filter(filter, default);
    ldap3::parse_filter(&f).map_err(|()| Error::Invalid(format!("{setting} {f:?} is not a valid LDAP filter")))?;
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(r: Result<()>) -> String {
        match r {
            Err(Error::Invalid(m)) => m,
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn filters_get_parentheses_and_must_parse() {
        assert_eq!(normalize_filter("", "(objectClass=*)"), "(objectClass=*)");
        assert_eq!(normalize_filter(" objectClass=person ", "x"), "(objectClass=person)");
        assert_eq!(normalize_filter("(|(a=1)(b=2))", "x"), "(|(a=1)(b=2))");
        assert!(checked_filter("ldap_filter", "(a=1", "x").is_err());
    }

    #[test]
    fn settings_are_checked_before_connecting() {
        let mut s = SystemSettings { ldap_url: "ldap://h".into(), ldap_base_dn: "dc=x".into(), ..Default::default() };
        assert!(Config::new(&s).is_ok());
        let bad_uid = SystemSettings { ldap_uid: "uid)(cn=*".into(), ..s.clone() };
        assert!(message(check_settings(&bad_uid, false)).contains("ldap_uid"));
        assert!(message(check_settings(&SystemSettings { ldap_scope: 3, ..s.clone() }, false)).contains("ldap_scope"));
        let bad_filter = SystemSettings { ldap_group_search_filter: "(cn=a".into(), ..s.clone() };
        assert!(message(check_settings(&bad_filter, false)).contains("ldap_group_search_filter"));
        s.ldap_search_dn = "cn=admin,dc=x".into();
        assert!(message(check_settings(&s, true)).contains("ldap_search_password"));
        assert!(check_settings(&s, false).is_ok(), "a partial configuration may be saved");
    }

    #[test]
    fn only_complete_settings_need_a_url_and_base_dn() {
        let empty = SystemSettings::default();
        assert!(check_settings(&empty, false).is_ok());
        assert!(message(check_settings(&empty, true)).contains("ldap_url"));
        let url_only = SystemSettings { ldap_url: "ldaps://h:636".into(), ..Default::default() };
        assert!(message(check_settings(&url_only, true)).contains("ldap_base_dn"));
    }

    #[test]
    fn urls_name_a_scheme_a_host_and_a_port_only() {
        for good in
            ["ldap://h", "ldap://ldap.example.com:389", "ldaps://10.0.0.1:636", "ldap://[::1]:389", "ldap://a_b"]
        {
            assert!(check_url(good, true).is_ok(), "{good}");
        }
        for bad in [
            "h:389",
            "http://h",
            "LDAP://h",
            "ldapi:///var/run/slapd",
            "ldap://",
            "ldap://:389",
            "ldap://h:",
            "ldap://h:0",
            "ldap://h:65536",
            "ldap://h:38a",
            "ldap://h:389/",
            "ldap://h/dc=x?uid",
            "ldap://user@h",
            "ldap://user:pw@h:389",
            "ldap://h h",
            "ldap://[::1",
            "ldap://[nope]:389",
            "ldap://h\u{200b}",
        ] {
            assert!(message(check_url(bad, true)).contains("ldap_url"), "{bad}");
        }
    }

    #[test]
    fn dns_are_attribute_value_pairs() {
        for good in [
            "dc=example,dc=com",
            "cn=Berth Admins, ou=Groups, dc=x",
            r"cn=a\,b+uid=c,dc=x",
            r"cn=x\2c y,dc=z",
            "2.5.4.3=x,dc=y",
            "cn=,dc=x",
        ] {
            assert!(check_dn("ldap_base_dn", good, true).is_ok(), "{good}");
        }
        for bad in ["example.com", "dc=x,", "=x", "1x=y", r"cn=a\q", r"cn=a\4", "cn=\"a\"", "cn=a\0b", "cn=a,,dc=b"] {
            assert!(message(check_dn("ldap_group_admin_dn", bad, false)).contains("ldap_group_admin_dn"), "{bad}");
        }
        assert!(check_dn("ldap_search_dn", "  ", false).is_ok());
        assert!(message(check_dn("ldap_base_dn", "", true)).contains("ldap_base_dn is empty"));
    }
}

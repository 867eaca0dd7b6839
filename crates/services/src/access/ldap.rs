//! Login against an LDAP directory or Active Directory, configured by Harbor's
//! `ldap_*` settings.
//!
//! Each call opens its own connections and closes them before returning:
//! logins are rare next to registry traffic, and a pool would have to notice
//! when the URL or the search account changes under it.

mod config;

use std::time::Duration;

use berth_core::{Error, Result};
use ldap3::{ldap_escape, Ldap, LdapConnAsync, LdapConnSettings, LdapError, Scope, SearchEntry, SearchOptions};

use crate::settings::SystemSettings;
pub use config::check_settings;
use config::Config;

const SIZE_LIMIT_EXCEEDED: u32 = 4;
const REFERRAL: u32 = 10;
const NO_SUCH_OBJECT: u32 = 32;
const INVALID_CREDENTIALS: u32 = 49;

/// A person found and authenticated in the directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LdapUser {
    pub dn: String,
    /// The value of the `ldap_uid` attribute, which may differ in case from what was typed.
    pub username: String,
    pub email: String,
    pub realname: String,
    /// Group DNs, from the membership attribute and the group search.
    pub groups: Vec<String>,
    pub is_admin: bool,
}

/// Checks the settings by binding with the search DN (or anonymously when
/// empty) and reading the base DN, so an administrator sees which part is
/// wrong before anyone tries to log in.
pub async fn ping(settings: &SystemSettings) -> Result<()> {
    let cfg = Config::new(settings)?;
    let mut conn = connect(&cfg).await?;
    let result = check(&mut conn, &cfg).await;
    conn.close().await;
    result
}

/// Finds the user with the search account, then proves the password with a
/// bind as that user on a fresh connection. `Ok(None)` means "not this
/// person" (unknown, wrong password, refused by the directory).
pub async fn authenticate(settings: &SystemSettings, username: &str, password: &str) -> Result<Option<LdapUser>> {
    // A simple bind with an empty password is an unauthenticated bind, which
    // servers report as a success: it must never reach the directory.
    if password.is_empty() || username.trim().is_empty() {
        return Ok(None);
    }
    let cfg = Config::new(settings)?;
    let mut conn = connect(&cfg).await.map_err(Error::internal)?;
    let result = login(&mut conn, &cfg, username, password).await;
    conn.close().await;
    result
}

async fn login(conn: &mut Conn, cfg: &Config<'_>, username: &str, password: &str) -> Result<Option<LdapUser>> {
    search_bind(conn, cfg).await?;
    let Some(entry) = find_user(conn, cfg, username).await? else {
        return Ok(None);
    };
    // An empty DN with a password is an anonymous bind on some servers.
    if entry.dn.trim().is_empty() || !user_bind(cfg, &entry.dn, password).await? {
        return Ok(None);
    }
    let s = cfg.s;
    let mut groups = values(&entry, &s.ldap_group_membership_attribute);
    if !s.ldap_group_base_dn.trim().is_empty() {
        groups.extend(search_groups(conn, cfg, &entry.dn).await?);
    }
    let mut seen = std::collections::HashSet::new();
    groups.retain(|g| seen.insert(normalize_dn(g)));
    let admin = normalize_dn(&s.ldap_group_admin_dn);
    let is_admin = !admin.is_empty() && groups.iter().any(|g| normalize_dn(g) == admin);
    let uids = values(&entry, &s.ldap_uid);
    let uid = uids.iter().find(|u| u.eq_ignore_ascii_case(username)).or(uids.first());
    let first = |attr: &str| values(&entry, attr).into_iter().next();
    Ok(Some(LdapUser {
        username: uid.cloned().unwrap_or_else(|| username.to_owned()),
        email: first("mail").unwrap_or_default(),
        realname: first("displayName").or_else(|| first("cn")).unwrap_or_else(|| username.to_owned()),
        dn: entry.dn,
        groups,
        is_admin,
    }))
}

/// `value` comes from whoever is logging in: escaping keeps `*` or `)(` from
/// widening the filter to other people.
fn and_filter(base: &str, attr: &str, value: &str) -> String {
    format!("(&{base}({attr}={}))", ldap_escape(value))
}

/// DNs typed in the settings, read from memberOf and returned by a search
/// differ in case and spacing while naming the same entry. Escaped
/// characters are kept as they are, so an escaped space stays significant.
fn normalize_dn(dn: &str) -> String {
    let mut out = String::new();
    let mut blank = false;
    let mut chars = dn.chars();
    while let Some(c) = chars.next() {
        if matches!(c, ',' | ';' | '+' | '=') {
            out.push(if c == ';' { ',' } else { c });
            blank = false;
        } else if c.is_whitespace() {
            blank = !out.is_empty() && !out.ends_with([',', '+', '=']);
        } else {
            if std::mem::take(&mut blank) {
                out.push(' ');
            }
            out.push(c);
            if c == '\\' {
                out.extend(chars.next());
            }
        }
    }
    out.to_lowercase()
}

/// Servers may answer in another case than asked (AD sends `memberOf` for `memberof`).
fn values(entry: &SearchEntry, attr: &str) -> Vec<String> {
    entry.attrs.iter().filter(|(k, _)| k.eq_ignore_ascii_case(attr)).flat_map(|(_, v)| v.iter().cloned()).collect()
}

type Found = Result<Vec<SearchEntry>, LdapError>;

/// A connection; its driver task ends once the handle is unbound or dropped.
struct Conn {
    ldap: Ldap,
    timeout: Duration,
}

async fn connect(cfg: &Config<'_>) -> Result<Conn> {
    let url = cfg.s.ldap_url.trim();
    let options = LdapConnSettings::new().set_conn_timeout(cfg.timeout).set_no_tls_verify(!cfg.s.ldap_verify_cert);
    let (conn, ldap) = LdapConnAsync::with_settings(options, url).await.map_err(|e| {
        Error::Invalid(format!("cannot connect to the LDAP server at {url}: {}", describe(&e, cfg.timeout)))
    })?;
    ldap3::drive!(conn);
    Ok(Conn { ldap, timeout: cfg.timeout })
}

impl Conn {
    async fn bind(&mut self, dn: &str, password: &str) -> Result<(), LdapError> {
        self.ldap.with_timeout(self.timeout).simple_bind(dn, password).await?.success().map(drop)
    }

    /// Hitting the size limit is no error: callers judge the entries they got.
    async fn search(&mut self, base: &str, scope: Scope, filter: &str, attrs: Vec<&str>, limit: i32) -> Found {
        let options = SearchOptions::new().sizelimit(limit);
        let found =
            self.ldap.with_search_options(options).with_timeout(self.timeout).search(base, scope, filter, attrs);
        let ldap3::SearchResult(entries, result) = found.await?;
        if ![0, SIZE_LIMIT_EXCEEDED, REFERRAL].contains(&result.rc) {
            return Err(result.into());
        }
        Ok(entries.into_iter().map(SearchEntry::construct).collect())
    }

    async fn close(mut self) {
        let _ = self.ldap.unbind().await;
    }
}

fn describe(e: &LdapError, timeout: Duration) -> String {
    match e {
        LdapError::Timeout { .. } => format!("no answer within {}s (ldap_timeout)", timeout.as_secs()),
        LdapError::LdapResult { result } if result.rc == INVALID_CREDENTIALS => "invalid credentials".into(),
        e => e.to_string(),
    }
}

fn search_failed(what: &str, base: &str, e: &LdapError, timeout: Duration) -> Error {
    match e {
        LdapError::LdapResult { result } if result.rc == NO_SUCH_OBJECT => {
            Error::Invalid(format!("{what} {base:?} does not exist on the LDAP server"))
        }
        e => Error::Invalid(format!("searching {what} {base:?} failed: {}", describe(e, timeout))),
    }
}

async fn search_bind(conn: &mut Conn, cfg: &Config<'_>) -> Result<()> {
    let dn = cfg.s.ldap_search_dn.trim();
    if dn.is_empty() {
        return Ok(());
    }
    conn.bind(dn, cfg.s.ldap_search_password.expose()).await.map_err(|e| {
        let why = describe(&e, cfg.timeout);
        Error::Invalid(format!("the LDAP search bind as {dn:?} was refused ({why}); check ldap_search_dn/password"))
    })
}

async fn check(conn: &mut Conn, cfg: &Config<'_>) -> Result<()> {
    search_bind(conn, cfg).await?;
    let base = cfg.s.ldap_base_dn.trim();
    match conn.search(base, Scope::Base, "(objectClass=*)", vec!["1.1"], 1).await {
        Ok(entries) if !entries.is_empty() => Ok(()),
        Ok(_) => Err(Error::Invalid(format!("the base DN {base:?} is not readable by the search account"))),
        Err(e) => Err(search_failed("the base DN", base, &e, cfg.timeout)),
    }
}

async fn find_user(conn: &mut Conn, cfg: &Config<'_>, username: &str) -> Result<Option<SearchEntry>> {
    let s = cfg.s;
    let filter = and_filter(&cfg.user_filter, &s.ldap_uid, username);
    let mut attrs = vec![s.ldap_uid.as_str(), "mail", "cn", "displayName"];
    if !s.ldap_group_membership_attribute.is_empty() {
        attrs.push(&s.ldap_group_membership_attribute);
    }
    let base = s.ldap_base_dn.trim();
    // Two are enough to tell a unique match from an ambiguous filter.
    let found = conn.search(base, cfg.scope, &filter, attrs, 2).await;
    let mut entries = found.map_err(|e| search_failed("the base DN", base, &e, cfg.timeout))?;
    if entries.len() > 1 {
        return Err(Error::Invalid("several LDAP entries match this username; fix ldap_filter or ldap_uid".into()));
    }
    Ok(entries.pop())
}

/// On its own connection, so the search account's session is never replaced
/// by the user's (or left anonymous by a failed bind).
async fn user_bind(cfg: &Config<'_>, dn: &str, password: &str) -> Result<bool> {
    let mut conn = connect(cfg).await.map_err(Error::internal)?;
    let result = conn.bind(dn, password).await;
    conn.close().await;
    match result {
        Ok(()) => Ok(true),
        Err(LdapError::LdapResult { result }) => {
            tracing::debug!(dn, rc = result.rc, "LDAP refused the user bind");
            Ok(false)
        }
        Err(e) => Err(Error::internal(format!("LDAP bind as {dn:?} failed: {}", describe(&e, cfg.timeout)))),
    }
}

async fn search_groups(conn: &mut Conn, cfg: &Config<'_>, user_dn: &str) -> Result<Vec<String>> {
    let base = cfg.s.ldap_group_base_dn.trim();
    let filter = and_filter(&cfg.group_filter, "member", user_dn);
    let found = conn.search(base, Scope::Subtree, &filter, vec!["1.1"], 0).await;
    let entries = found.map_err(|e| search_failed("the group base DN", base, &e, cfg.timeout))?;
    Ok(entries.into_iter().map(|e| e.dn).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_escape_input() {
        let f = and_filter("(objectClass=person)", "uid", "alice)(uid=*");
        assert_eq!(f, r"(&(objectClass=person)(uid=alice\29\28uid=\2a))");
        assert_eq!(and_filter("(o=x)", "member", r"cn=a\,b"), r"(&(o=x)(member=cn=a\5c,b))");
        assert!(ldap3::parse_filter(&f).is_ok());
    }

    #[test]
    fn dns_compare_ignoring_case_and_spacing() {
        let same_dn = |a, b| normalize_dn(a) == normalize_dn(b);
        assert!(same_dn("CN=Berth Admins, OU=Groups ,DC=berth,DC=test", "cn=berth  admins,ou=groups,dc=berth,dc=test"));
        assert!(same_dn(r"cn=a\, b,dc=x", r"CN=A\, B, DC=X"));
        assert!(!same_dn(r"cn=a\,b,dc=x", "cn=a,b,dc=x"));
        assert!(!same_dn("cn=admins,dc=x", "cn=admins2,dc=x"));
        assert_eq!(normalize_dn(r"cn=x\ ,dc=y"), r"cn=x\ ,dc=y");
    }
}

//! LDAP login against a real OpenLDAP, because the parts that matter (bind
//! semantics, filter escaping, memberOf) are the server's behaviour, not ours.

use std::time::{Duration, Instant};

use berth_core::Error;
use berth_services::access::ldap::{authenticate, ping, LdapUser};
use berth_services::settings::{AuthMode, SystemSettings};
use berth_testkit::Slapd;

/// A directory with alice (an admin) and bob, and settings pointing at it.
fn directory() -> (Slapd, SystemSettings) {
    let ldap = Slapd::start().expect("start slapd");
    ldap.add_user("alice", "alice-pw").expect("add alice");
    ldap.add_user("bob", "bob-pw").expect("add bob");
    ldap.add_user("carol", "carol-pw").expect("add carol");
    ldap.add_group("berth-admins", &["alice"]).expect("add admins");
    ldap.add_group("developers", &["alice", "bob"]).expect("add developers");
    let settings = SystemSettings {
        auth_mode: AuthMode::LdapAuth,
        ldap_url: ldap.url.clone(),
        ldap_base_dn: ldap.base_dn.clone(),
        ldap_filter: "(objectClass=inetOrgPerson)".into(),
        ldap_uid: "uid".into(),
        ldap_scope: 2,
        ldap_search_dn: ldap.admin_dn.clone(),
        ldap_search_password: ldap.admin_password.as_str().into(),
        ldap_timeout: 5,
        ldap_group_base_dn: format!("ou=groups,{}", ldap.base_dn),
        ldap_group_admin_dn: ldap.group_dn("berth-admins"),
        ..Default::default()
    };
    (ldap, settings)
}

async fn login(settings: &SystemSettings, username: &str, password: &str) -> Option<LdapUser> {
    authenticate(settings, username, password).await.unwrap_or_else(|e| panic!("authenticate {username:?}: {e}"))
}

#[tokio::test]
async fn users_authenticate_with_their_groups() {
    let (ldap, settings) = directory();
    let started = Instant::now();
    let alice = login(&settings, "alice", "alice-pw").await.expect("alice authenticates");
    eprintln!("authenticate took {:?}", started.elapsed());
    assert_eq!(alice.dn, ldap.user_dn("alice"));
    assert_eq!(alice.username, "alice");
    assert_eq!(alice.email, "alice@berth.test");
    assert_eq!(alice.realname, "alice");
    assert!(alice.is_admin);
    let mut groups = alice.groups.clone();
    groups.sort();
    assert_eq!(groups, vec![ldap.group_dn("berth-admins"), ldap.group_dn("developers")], "no duplicates");

    let bob = login(&settings, "BOB", "bob-pw").await.expect("bob authenticates");
    assert_eq!(bob.username, "bob", "the directory's spelling wins");
    assert!(!bob.is_admin);
    assert_eq!(bob.groups, vec![ldap.group_dn("developers")]);

    // The admin DN as a person might type it.
    let typed = SystemSettings {
        ldap_group_admin_dn: format!("CN=Berth-Admins, OU=Groups, {}", ldap.base_dn.to_uppercase()),
        ..settings.clone()
    };
    assert!(login(&typed, "alice", "alice-pw").await.expect("alice").is_admin);

    // memberOf alone, without a group search.
    let member_of = SystemSettings { ldap_group_base_dn: String::new(), ..settings.clone() };
    assert!(login(&member_of, "alice", "alice-pw").await.expect("alice").is_admin);
    assert_eq!(login(&member_of, "bob", "bob-pw").await.expect("bob").groups, vec![ldap.group_dn("developers")]);

    // The group search alone, with a membership attribute nobody has.
    let search_only = SystemSettings { ldap_group_membership_attribute: "description".into(), ..settings.clone() };
    assert!(login(&search_only, "alice", "alice-pw").await.expect("alice").is_admin);

    // One level under the base DN holds only ou=people and ou=groups.
    let one_level = SystemSettings { ldap_scope: 1, ..settings.clone() };
    assert_eq!(login(&one_level, "alice", "alice-pw").await, None);

    // Anonymous search is allowed by this directory.
    let anonymous =
        SystemSettings { ldap_search_dn: String::new(), ldap_search_password: Default::default(), ..settings };
    assert!(login(&anonymous, "alice", "alice-pw").await.is_some());
}

#[tokio::test]
async fn bad_credentials_find_nobody() {
    let (ldap, settings) = directory();
    assert_eq!(login(&settings, "alice", "wrong").await, None);
    assert_eq!(login(&settings, "nobody", "alice-pw").await, None);
    assert_eq!(login(&settings, "", "alice-pw").await, None);

    // Escaping keeps metacharacters from matching everyone (which would also
    // be reported as an ambiguous filter).
    for username in ["*", "alice*", "alice)(uid=*", "*)(|(uid=*", r"alice\2a"] {
        assert_eq!(login(&settings, username, "alice-pw").await, None, "{username:?}");
    }

    // An empty password must not even reach the server: slapd would take it
    // as an unauthenticated bind and report success.
    assert_eq!(login(&settings, "carol", "").await, None);
    let carol_bind = format!("BIND dn=\"{}\"", ldap.user_dn("carol"));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!ldap.log().contains(&carol_bind), "a bind was attempted for an empty password");
    assert!(login(&settings, "carol", "carol-pw").await.is_some());
    let deadline = Instant::now() + Duration::from_secs(5);
    while !ldap.log().contains(&carol_bind) {
        assert!(Instant::now() < deadline, "slapd never logged carol's bind; the check above proves nothing");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn ambiguous_filter_is_a_settings_error() {
    let (_ldap, settings) = directory();
    let ambiguous = SystemSettings { ldap_uid: "objectClass".into(), ..settings };
    match authenticate(&ambiguous, "inetOrgPerson", "alice-pw").await {
        Err(Error::Invalid(m)) => assert!(m.contains("several LDAP entries"), "{m}"),
        other => panic!("expected an ambiguity error, got {other:?}"),
    }
}

#[tokio::test]
async fn ping_explains_what_is_wrong() {
    let (ldap, settings) = directory();
    ping(&settings).await.expect("ping with good settings");

    let bad_password = SystemSettings { ldap_search_password: "not-it".into(), ..settings.clone() };
    let e = ping(&bad_password).await.expect_err("wrong search password");
    assert!(matches!(&e, Error::Invalid(m) if m.contains("search bind") && !m.contains("not-it")), "{e:?}");
    assert!(authenticate(&bad_password, "alice", "alice-pw").await.is_err());

    let closed_port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
    let closed = SystemSettings { ldap_url: format!("ldap://127.0.0.1:{closed_port}"), ..settings.clone() };
    let e = ping(&closed).await.expect_err("closed port");
    assert!(matches!(&e, Error::Invalid(m) if m.contains("cannot connect")), "{e:?}");
    assert!(matches!(authenticate(&closed, "alice", "alice-pw").await, Err(Error::Internal(_))));

    // A server that hangs up during the TLS handshake: an error, not a hang or a panic.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("listen");
    let tls_port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            drop(socket);
        }
    });
    for verify in [true, false] {
        let url = format!("ldaps://127.0.0.1:{tls_port}");
        let tls = SystemSettings { ldap_url: url, ldap_verify_cert: verify, ..settings.clone() };
        let e = ping(&tls).await.expect_err("TLS handshake cannot succeed");
        assert!(matches!(&e, Error::Invalid(m) if m.contains("cannot connect")), "{e:?}");
    }

    let missing = SystemSettings { ldap_base_dn: format!("ou=nowhere,{}", ldap.base_dn), ..settings.clone() };
    let e = ping(&missing).await.expect_err("missing base DN");
    assert!(matches!(&e, Error::Invalid(m) if m.contains("does not exist")), "{e:?}");

    let no_url = SystemSettings { ldap_url: String::new(), ..settings.clone() };
    assert!(matches!(ping(&no_url).await, Err(Error::Invalid(_))));
    let bad_filter = SystemSettings { ldap_filter: "(objectClass=person".into(), ..settings };
    assert!(matches!(ping(&bad_filter).await, Err(Error::Invalid(m)) if m.contains("ldap_filter")));
}

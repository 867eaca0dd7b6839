//! The slapd fixture must behave like a real directory, or LDAP login tests
//! built on it would prove nothing: checked here with the OpenLDAP CLIs.

use std::process::Output;

use anyhow::{ensure, Result};
use berth_testkit::Slapd;

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// DNs of the entries found, from `ldapsearch -LLL ... dn` output.
fn search_dns(ldap: &Slapd, base: &str, filter: &str) -> Result<Vec<String>> {
    let out = ldap
        .cli("ldapsearch")
        .args(["-LLL", "-o", "ldif-wrap=no", "-D", &ldap.admin_dn, "-w", &ldap.admin_password])
        .args(["-b", base, filter, "dn"])
        .output()?;
    ensure!(out.status.success(), "ldapsearch {filter} failed: {}", text(&out));
    Ok(String::from_utf8(out.stdout)?.lines().filter_map(|l| l.strip_prefix("dn: ")).map(str::to_string).collect())
}

fn whoami(ldap: &Slapd, dn: &str, password: &str) -> Result<Output> {
    Ok(ldap.cli("ldapwhoami").args(["-D", dn, "-w", password]).output()?)
}

#[test]
fn slapd_serves_users_groups_and_member_of() -> Result<()> {
    let ldap = Slapd::start()?;
    assert!(ldap.url.starts_with("ldap://127.0.0.1:"), "{}", ldap.url);
    ldap.add_user("alice", "alice-pw")?;
    ldap.add_user("bob", "bob-pw")?;
    ldap.add_group("berth-admins", &["alice"])?;
    let alice = ldap.user_dn("alice");
    let group = ldap.group_dn("berth-admins");

    let ok = whoami(&ldap, &alice, "alice-pw")?;
    ensure!(ok.status.success(), "alice bind failed: {}", text(&ok));
    ensure!(text(&ok).contains(&alice), "unexpected whoami: {}", text(&ok));

    let bad = whoami(&ldap, &alice, "wrong")?;
    ensure!(!bad.status.success(), "bind with a wrong password succeeded");
    ensure!(text(&bad).contains("Invalid credentials"), "unexpected error: {}", text(&bad));

    let people = format!("ou=people,{}", ldap.base_dn);
    let members = search_dns(&ldap, &people, &format!("(memberOf={group})"))?;
    assert_eq!(members, vec![alice.clone()]);

    let groups = format!("ou=groups,{}", ldap.base_dn);
    assert_eq!(search_dns(&ldap, &groups, &format!("(member={alice})"))?, vec![group]);
    assert!(search_dns(&ldap, &groups, &format!("(member={})", ldap.user_dn("bob")))?.is_empty());

    // Passwords are stored hashed and hidden from anonymous readers.
    let anon = ldap.cli("ldapsearch").args(["-LLL", "-b", &alice, "-s", "base", "*", "+"]).output()?;
    ensure!(anon.status.success(), "anonymous search failed: {}", text(&anon));
    let anon = text(&anon);
    ensure!(anon.contains("mail: alice@berth.test") && !anon.contains("userPassword"), "{anon}");
    Ok(())
}

#[test]
fn empty_group_and_independent_instances() -> Result<()> {
    let (a, b) = (Slapd::start()?, Slapd::start()?);
    assert_ne!(a.url, b.url);
    a.add_user("carol", "carol-pw")?;
    a.add_group("nobody", &[])?;
    let groups = format!("ou=groups,{}", a.base_dn);
    assert_eq!(search_dns(&a, &groups, "(cn=nobody)")?, vec![a.group_dn("nobody")]);
    assert!(search_dns(&a, &a.base_dn, &format!("(memberOf={})", a.group_dn("nobody")))?.is_empty());
    // carol exists only on `a`.
    ensure!(whoami(&a, &a.user_dn("carol"), "carol-pw")?.status.success(), "carol bind on a failed");
    ensure!(!whoami(&b, &b.user_dn("carol"), "carol-pw")?.status.success(), "carol bind on b succeeded");
    ensure!(a.add_user("bad,uid", "x").is_err(), "unsafe uid was accepted");
    Ok(())
}

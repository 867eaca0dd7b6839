//! What account names and e-mail addresses may look like, for every kind of
//! account: local users, accounts made on a first LDAP sign-in, and the
//! names reserved for robots.
//!
//! A username is shown to people in member lists, audit logs and tokens, so
//! it must read as what it is. Beyond the ASCII characters that break LDAP
//! filters, URLs or shells (Harbor's rule), a name may not hide characters
//! (zero-width, format and control characters), may not mix scripts (a
//! Cyrillic `а` inside `аdmin`), and may not be a non-ASCII lookalike of a
//! plain ASCII name; the Unicode rules are those of UTS #39 as the
//! `unicode-security` crate implements them.

use berth_core::{Error, Result};
use unicode_normalization::is_nfc;
use unicode_security::{skeleton, GeneralSecurityProfile, MixedScript};

use crate::robots::ROBOT_PREFIX;

/// Longest username, in characters.
pub const MAX_USERNAME: usize = 255;
/// Longest e-mail address (RFC 5321's limit on a path, less its brackets).
const MAX_EMAIL: usize = 254;
/// ASCII characters that break LDAP filters, URLs or shells.
const FORBIDDEN: &str = r#","~#$%:/\*()&|=<>!?'"#;

/// Whether `name` is in the robots' namespace. Case is ignored, so that no
/// `ROBOT$ci` user can pass for the robot `robot$ci` anywhere names are shown.
pub fn is_robot_name(name: &str) -> bool {
    name.get(..ROBOT_PREFIX.len()).is_some_and(|p| p.eq_ignore_ascii_case(ROBOT_PREFIX))
}

/// How a character is named in a message: invisible ones by code point.
fn shown(c: char) -> String {
    if c.is_ascii_graphic() {
        format!("'{c}'")
    } else {
        format!("U+{:04X}", u32::from(c))
    }
}

/// Checks a username for any kind of account other than a robot.
pub fn check_username(name: &str) -> Result<()> {
    let invalid = |why: String| Err(Error::Invalid(format!("username {why}")));
    if name.is_empty() {
        return invalid("must not be empty".into());
    }
    if name.chars().count() > MAX_USERNAME {
        return invalid(format!("must be at most {MAX_USERNAME} characters"));
    }
    if is_robot_name(name) {
        return invalid(format!("must not start with '{ROBOT_PREFIX}': such names are reserved for robot accounts"));
    }
    for c in name.chars() {
        let refused = if c.is_ascii() {
            c.is_ascii_control() || c == ' ' || FORBIDDEN.contains(c)
        } else {
            // Not allowed in identifiers by UTS #39: default-ignorable and
            // format characters (zero-width space, bidi controls), spaces,
            // symbols and letters of scripts not in modern use.
            !c.identifier_allowed()
        };
        if refused {
            return invalid(format!("must not contain {}", shown(c)));
        }
    }
    if name.is_ascii() {
        return Ok(());
    }
    if !is_nfc(name) {
        // `é` written as `e` plus a combining accent looks the same as the
        // single character; only the composed form is accepted.
        return invalid("must be in composed form (Unicode NFC)".into());
    }
    if !name.is_single_script() {
        return invalid("must not mix scripts, such as Latin and Cyrillic letters".into());
    }
    let lookalike: String = skeleton(name).collect();
    if lookalike.is_ascii() {
        return invalid(format!("looks like the plain name '{lookalike}' but is written with other characters"));
    }
    Ok(())
}

/// Checks an e-mail address: empty (none), or `local@domain` as people
/// write them. Quoted local parts, comments and address literals, which
/// RFC 5322 allows, are refused: they are not used for accounts and make
/// two different strings read alike. Hand-written because the grammar
/// crates accept exactly those forms.
pub fn check_email(email: &str) -> Result<()> {
    if email.is_empty() || valid_email(email) {
        return Ok(());
    }
    Err(Error::Invalid(format!(
        "email must be empty or an address like name@example.com, at most {MAX_EMAIL} characters, \
         without spaces, quotes, brackets or invisible characters"
    )))
}

fn valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else { return false };
    let local_ok = (1..=64).contains(&local.chars().count())
        && local.split('.').all(|part| !part.is_empty())
        && local.chars().all(|c| {
            if c.is_ascii() {
                c.is_ascii_graphic() && !r#""(),:;<>@[\]"#.contains(c)
            } else {
                c.identifier_allowed()
            }
        });
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2 && labels.iter().all(|l| berth_core::dns::is_dns_label(l));
    email.chars().count() <= MAX_EMAIL && local_ok && domain_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_pass_and_ascii_specials_are_refused() {
        for good in ["alice", "alice.b-c_d@corp", "Bob", "robot", "robots", "x+y"] {
            assert!(check_username(good).is_ok(), "{good}");
        }
        for bad in ["", "a b", "x'--", "a:b", "a/b", "(cn=*)", "tab\there", "nul\0"] {
            assert!(check_username(bad).is_err(), "{bad:?}");
        }
        assert!(check_username(&"a".repeat(MAX_USERNAME)).is_ok());
        assert!(check_username(&"a".repeat(MAX_USERNAME + 1)).is_err());
    }

    #[test]
    fn robot_names_are_reserved_in_any_case() {
        for name in ["robot$ci", "ROBOT$x", "Robot$team+ci"] {
            assert!(is_robot_name(name), "{name}");
            let Err(Error::Invalid(m)) = check_username(name) else { panic!("{name} accepted") };
            assert!(m.contains("reserved for robot accounts"), "{m}");
        }
        assert!(!is_robot_name("robot") && !is_robot_name("robotx$") && !is_robot_name("røbot$x"));
    }

    #[test]
    fn invisible_and_format_characters_are_refused() {
        for (name, shown) in [
            ("ad\u{200b}min", "U+200B"),
            ("ad\u{200d}min", "U+200D"),
            ("admin\u{202e}", "U+202E"),
            ("ad\u{ad}min", "U+00AD"),
            ("ad\u{a0}min", "U+00A0"),
            ("ad\u{85}min", "U+0085"),
            ("\u{feff}admin", "U+FEFF"),
        ] {
            let Err(Error::Invalid(m)) = check_username(name) else { panic!("{name:?} accepted") };
            assert!(m.contains(shown), "{name:?}: {m}");
        }
    }

    #[test]
    fn mixed_scripts_and_lookalikes_are_refused() {
        let Err(Error::Invalid(m)) = check_username("\u{430}dmin") else { panic!("Cyrillic a accepted") };
        assert!(m.contains("mix scripts"), "{m}");
        // Entirely Cyrillic, yet it reads as the Latin `pae`.
        let Err(Error::Invalid(m)) = check_username("\u{440}\u{430}\u{435}") else { panic!("lookalike accepted") };
        assert!(m.contains("looks like the plain name 'pae'"), "{m}");
        // `e` followed by a combining acute accent rather than `é`.
        assert!(check_username("jose\u{301}").is_err());
        for good in ["josé", "müller", "иван", "李雷", "ゆうき", "ユウキ_2"] {
            assert!(check_username(good).is_ok(), "{good}");
        }
    }

    #[test]
    fn emails_follow_one_rule() {
        for good in ["", "alice@example.com", "a.b+tag@mail.example.org", "ü@example.de", "x@berth.test"] {
            assert!(check_email(good).is_ok(), "{good}");
        }
        for bad in [
            "alice",
            "alice@",
            "@example.com",
            "alice@localhost",
            "a b@example.com",
            "a@b@example.com",
            "\"a\"@example.com",
            "a..b@example.com",
            ".a@example.com",
            "a@-example.com",
            "a@example..com",
            "a@[127.0.0.1]",
            "al\u{200b}ice@example.com",
            "alice@exa\u{200b}mple.com",
            "alice@example.com\n",
        ] {
            assert!(check_email(bad).is_err(), "{bad:?}");
        }
        assert!(check_email(&format!("{}@example.com", "a".repeat(65))).is_err());
        assert!(check_email(&format!("a@{}.com", "b".repeat(250))).is_err());
    }
}

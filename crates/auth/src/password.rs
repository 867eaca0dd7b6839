//! Password hashing, the strength rule, and generated passwords and secrets.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use rand::rngs::OsRng;
use rand::Rng;

use crate::AuthError;

/// OWASP's minimum argon2id setting: 19 MiB of memory, two passes, one lane.
const MEMORY_KIB: u32 = 19_456;
const ITERATIONS: u32 = 2;
const LANES: u32 = 1;

/// Harbor's bounds; the upper one keeps hashing cost bounded for hostile input.
const MIN_CHARS: usize = 8;
const MAX_CHARS: usize = 128;

/// Characters a person cannot confuse when reading a password aloud or off a screen (no 0/O/o, 1/l/I).
const UNAMBIGUOUS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789";
const ALPHANUMERIC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// Hashes a password into a self-describing PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`).
///
/// The parameters travel inside the string, so raising them later does not break stored hashes.
pub fn hash_password(plain: &str) -> Result<String, AuthError> {
    let params = Params::new(MEMORY_KIB, ITERATIONS, LANES, None)
        .map_err(|e| AuthError::Internal(format!("argon2 parameters rejected: {e}")))?;
    let hasher = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    let salt = SaltString::generate(&mut OsRng);
    hasher
        .hash_password(plain.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| AuthError::Internal(format!("password hashing failed: {e}")))
}

/// Checks a password against a stored PHC string.
///
/// The comparison is the argon2 crate's constant-time one. Anything that is not a parseable
/// argon2 hash yields `false`, so a corrupt row cannot lock the caller into an error path.
pub fn verify_password(plain: &str, phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    Argon2::default().verify_password(plain.as_bytes(), &parsed).is_ok()
}

/// Applies Harbor's strength rule: 8 to 128 characters with an uppercase letter, a lowercase
/// letter and a digit.
///
/// All broken rules are reported at once so a person can fix the password in one go.
/// Letter case and digits are judged with Unicode rules, so `É` counts as uppercase.
pub fn check_password_strength(plain: &str) -> Result<(), AuthError> {
    let chars = plain.chars().count();
    let mut broken: Vec<&str> = Vec::new();
    if chars < MIN_CHARS {
        broken.push("be at least 8 characters long");
    }
    if chars > MAX_CHARS {
        broken.push("be at most 128 characters long");
    }
    if !plain.chars().any(char::is_uppercase) {
        broken.push("contain an uppercase letter");
    }
    if !plain.chars().any(char::is_lowercase) {
        broken.push("contain a lowercase letter");
    }
    if !plain.chars().any(char::is_numeric) {
        broken.push("contain a digit");
    }
    if broken.is_empty() {
        return Ok(());
    }
    Err(AuthError::WeakPassword(format!("the password must {}", join_rules(&broken))))
}

/// Joins rules as a sentence: "a", "a and b", "a, b and c".
fn join_rules(rules: &[&str]) -> String {
    match rules.split_last() {
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// Generates a 20-character password a person can copy by hand, for initial or reset passwords.
pub fn generate_password() -> String {
    generate_strong(UNAMBIGUOUS, 20)
}

/// Generates a 32-character alphanumeric secret, for robot accounts that never type it.
pub fn generate_secret() -> String {
    generate_strong(ALPHANUMERIC, 32)
}

/// Draws uniformly from `alphabet` and retries until the result passes the strength rule.
///
/// Retrying keeps every valid output equally likely (forcing one character per class would not);
/// at these lengths more than 95 % of draws pass first time.
fn generate_strong(alphabet: &[u8], len: usize) -> String {
    let mut rng = OsRng;
    loop {
        let candidate: String = (0..len).map(|_| char::from(alphabet[rng.gen_range(0..alphabet.len())])).collect();
        if check_password_strength(&candidate).is_ok() {
            return candidate;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weak_message(plain: &str) -> String {
        match check_password_strength(plain) {
            Err(AuthError::WeakPassword(message)) => message,
            other => panic!("expected a weak-password error for {plain:?}, got {other:?}"),
        }
    }

    #[test]
    fn hash_round_trips_and_uses_owasp_parameters() {
        let phc = hash_password("Correct-Horse-9").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify_password("Correct-Horse-9", &phc));
        assert!(!verify_password("correct-horse-9", &phc));
    }

    #[test]
    fn same_password_gets_a_fresh_salt() {
        assert_ne!(hash_password("Abcdefg1").unwrap(), hash_password("Abcdefg1").unwrap());
    }

    #[test]
    fn malformed_hashes_are_refused_without_panicking() {
        for phc in ["", "plain", "$argon2id$", "$argon2id$v=19$m=19456,t=2,p=1$bad$bad", "$sha256$abc"] {
            assert!(!verify_password("Abcdefg1", phc), "{phc}");
        }
    }

    #[test]
    fn strength_rule_accepts_harbor_examples() {
        assert!(check_password_strength("Harbor12345").is_ok());
        assert!(check_password_strength("Ééééééé1").is_ok());
        assert!(check_password_strength(&format!("Aa1{}", "x".repeat(125))).is_ok());
    }

    #[test]
    fn strength_rule_names_each_broken_rule() {
        assert_eq!(weak_message("Ab1"), "the password must be at least 8 characters long");
        assert_eq!(
            weak_message(&format!("Aa1{}", "x".repeat(126))),
            "the password must be at most 128 characters long"
        );
        assert_eq!(weak_message("abcdefg1"), "the password must contain an uppercase letter");
        assert_eq!(weak_message("ABCDEFG1"), "the password must contain a lowercase letter");
        assert_eq!(weak_message("Abcdefgh"), "the password must contain a digit");
        assert_eq!(
            weak_message("abc"),
            "the password must be at least 8 characters long, contain an uppercase letter and contain a digit"
        );
    }

    #[test]
    fn generated_passwords_are_strong_unambiguous_and_distinct() {
        let first = generate_password();
        for _ in 0..200 {
            let password = generate_password();
            assert_eq!(password.len(), 20);
            assert!(check_password_strength(&password).is_ok(), "{password}");
            assert!(!password.contains(['0', 'O', 'o', '1', 'l', 'I']), "{password}");
        }
        assert_ne!(first, generate_password());
    }

    #[test]
    fn generated_secrets_are_strong_and_alphanumeric() {
        for _ in 0..200 {
            let secret = generate_secret();
            assert_eq!(secret.len(), 32);
            assert!(secret.bytes().all(|b| b.is_ascii_alphanumeric()), "{secret}");
            assert!(check_password_strength(&secret).is_ok(), "{secret}");
        }
    }
}

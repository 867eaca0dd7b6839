//! Secrets at rest: values such as token signing keys and the LDAP bind
//! password are stored sealed (XChaCha20-Poly1305) under a key kept outside
//! the database, so a copy of the database alone reveals none of them.
//!
//! Each sealed value is bound to a context naming where it is stored
//! (`signing-key:<kid>`, `setting:<name>`), so a sealed value copied into
//! another place does not open there.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::rngs::OsRng;
use rand::RngCore;

use crate::AuthError;

/// Every sealed value starts with this, so plaintext left by an older
/// version is recognised and sealed on the next start.
const PREFIX: &str = "sealed:v1:";
const NONCE_BYTES: usize = 24;

/// The key that seals and opens stored secrets.
#[derive(Clone)]
pub struct SealingKey([u8; 32]);

impl std::fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealingKey(<redacted>)")
    }
}

impl SealingKey {
    /// A fresh random key.
    pub fn generate() -> SealingKey {
        let mut key = [0u8; 32];
        OsRng.fill_bytes(&mut key);
        SealingKey(key)
    }

    /// The key as stored in a key file: base64 of its 32 bytes.
    pub fn to_text(&self) -> String {
        STANDARD.encode(self.0)
    }

    /// Reads a key file's content (surrounding whitespace ignored).
    pub fn from_text(text: &str) -> Result<SealingKey, AuthError> {
        let bytes =
            STANDARD.decode(text.trim()).map_err(|_| AuthError::Unsealable("the secret key is not base64".into()))?;
        let key: [u8; 32] =
            bytes.try_into().map_err(|_| AuthError::Unsealable("the secret key must be 32 bytes".into()))?;
        Ok(SealingKey(key))
    }

    /// Whether `value` is sealed (rather than plaintext from an older version).
    pub fn is_sealed(value: &str) -> bool {
        value.starts_with(PREFIX)
    }

    /// Seals `plaintext` for the place named by `context`.
    pub fn seal(&self, plaintext: &[u8], context: &str) -> String {
        let mut nonce = [0u8; NONCE_BYTES];
        OsRng.fill_bytes(&mut nonce);
        let payload = Payload { msg: plaintext, aad: context.as_bytes() };
        // Encryption fails only for messages of about 256 GiB.
        let sealed = self.cipher().encrypt(XNonce::from_slice(&nonce), payload).unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend(sealed);
        format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(out))
    }

    /// Opens a value sealed for `context` with this key.
    pub fn open(&self, sealed: &str, context: &str) -> Result<Vec<u8>, AuthError> {
        let refuse = || {
            AuthError::Unsealable(format!(
                "the stored secret for {context} does not open with this secret key (another key, or damaged data)"
            ))
        };
        let encoded = sealed.strip_prefix(PREFIX).ok_or_else(refuse)?;
        let bytes = URL_SAFE_NO_PAD.decode(encoded).map_err(|_| refuse())?;
        if bytes.len() < NONCE_BYTES {
            return Err(refuse());
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_BYTES);
        let payload = Payload { msg: ciphertext, aad: context.as_bytes() };
        self.cipher().decrypt(XNonce::from_slice(nonce), payload).map_err(|_| refuse())
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new((&self.0).into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens_in_its_context_only() {
        let key = SealingKey::generate();
        let sealed = key.seal(b"bind-password", "setting:ldap_search_password");
        assert!(SealingKey::is_sealed(&sealed) && !sealed.contains("bind-password"));
        assert_eq!(key.open(&sealed, "setting:ldap_search_password").unwrap(), b"bind-password");
        assert!(key.open(&sealed, "signing-key:abc").is_err(), "opened in another context");
        assert!(
            SealingKey::generate().open(&sealed, "setting:ldap_search_password").is_err(),
            "opened with another key"
        );
        assert_ne!(sealed, key.seal(b"bind-password", "setting:ldap_search_password"), "nonces repeat");
    }

    #[test]
    fn damaged_values_and_keys_are_refused() {
        let key = SealingKey::generate();
        let sealed = key.seal(b"x", "c");
        let mut damaged = sealed.clone().into_bytes();
        let last = damaged.len() - 2;
        damaged[last] = if damaged[last] == b'A' { b'B' } else { b'A' };
        assert!(key.open(std::str::from_utf8(&damaged).unwrap(), "c").is_err());
        for bad in ["", "plaintext", "sealed:v1:", "sealed:v1:!!!", "sealed:v1:AAAA"] {
            assert!(key.open(bad, "c").is_err(), "{bad:?}");
        }
        assert_eq!(SealingKey::from_text(&format!("  {}\n", key.to_text())).unwrap().0, key.0);
        assert!(SealingKey::from_text("c2hvcnQ=").is_err(), "a short key");
        assert!(SealingKey::from_text("not base64!").is_err());
        assert!(!format!("{key:?}").contains(&key.to_text()));
    }
}

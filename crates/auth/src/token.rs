//! Registry bearer tokens: HS256 JWTs in the shape of the Docker token-auth spec.

use std::collections::HashSet;
use std::fmt;
use std::sync::Once;

use jsonwebtoken::crypto::{rust_crypto, CryptoProvider};
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::rngs::OsRng;
use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::{AuthError, Scope};

/// Tokens are sent in a header; anything this large is hostile and is refused before parsing.
const MAX_TOKEN_BYTES: usize = 8 * 1024;
/// Tolerated clock difference between the token issuer and the registry.
const CLOCK_SKEW_SECS: u64 = 30;

/// A named HMAC key. Several can be valid at once so keys rotate without logging anyone out.
#[derive(Clone)]
pub struct SigningKey {
    /// Sent in the token header so verification picks the right key without trying each one.
    pub kid: String,
    secret: Vec<u8>,
}

impl SigningKey {
    /// A fresh key: 32 random bytes (the HS256 output size) and a random 16-hex-digit id.
    pub fn generate() -> SigningKey {
        let mut secret = vec![0u8; 32];
        OsRng.fill_bytes(&mut secret);
        let mut id = [0u8; 8];
        OsRng.fill_bytes(&mut id);
        SigningKey { kid: hex::encode(id), secret }
    }

    /// Rebuilds a key loaded from storage or configuration.
    pub fn from_parts(kid: impl Into<String>, secret: Vec<u8>) -> SigningKey {
        SigningKey { kid: kid.into(), secret }
    }

    /// The raw secret, for persisting the key; never log it.
    pub fn secret(&self) -> &[u8] {
        &self.secret
    }
}

impl fmt::Debug for SigningKey {
    /// Keys end up in config structs that get logged; the secret must not follow them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey").field("kid", &self.kid).field("secret", &"<redacted>").finish()
    }
}

/// The JWT payload of a registry token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The token service that issued the token.
    pub iss: String,
    /// The account the token acts for.
    pub sub: String,
    /// The registry service the token is meant for.
    pub aud: String,
    /// Expiry, unix seconds.
    pub exp: u64,
    /// Not valid before, unix seconds.
    pub nbf: u64,
    /// Issue time, unix seconds.
    pub iat: u64,
    /// Unique token id, so individual tokens can be told apart in logs.
    pub jti: String,
    /// What the bearer may do; a token without entries only proves identity.
    #[serde(default)]
    pub access: Vec<Scope>,
    /// The account by id and credential stamp; absent on anonymous tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<TokenAccount>,
}

/// The account a token acts for, named so that a token ends when the
/// account is deleted, re-created or changes its credentials: `sub` alone
/// (a name) would survive all three.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenAccount {
    /// `user` or `robot`.
    pub kind: String,
    pub id: i64,
    /// The account's credential stamp when the token was issued.
    pub stamp: i64,
}

/// Whom a token is issued to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subject<'a> {
    /// The `sub` claim: the account's name, empty for anonymous tokens.
    pub name: &'a str,
    pub account: Option<TokenAccount>,
}

/// A signed token with the timing fields the token endpoint reports to the client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Issued {
    /// The compact JWT.
    pub token: String,
    /// Lifetime in seconds, for the response's `expires_in`.
    pub expires_in: u64,
    /// Unix seconds, for the response's `issued_at`.
    pub issued_at: u64,
}

/// jsonwebtoken picks its crypto backend from crate features and panics if it cannot decide
/// (for example if another crate also enables `aws_lc_rs`); installing ours first removes that
/// failure mode without asking callers to set anything up. If someone installed one already,
/// theirs is kept.
fn ensure_crypto_provider() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let _ = CryptoProvider::install_default(&rust_crypto::DEFAULT_PROVIDER);
    });
}

/// Signs a token granting `access` to `subject`, valid from `now_unix` for `ttl_secs`.
///
/// Time is a parameter so callers and tests control it; this crate never reads the clock.
pub fn issue(
    key: &SigningKey,
    issuer: &str,
    audience: &str,
    subject: Subject<'_>,
    access: Vec<Scope>,
    ttl_secs: u64,
    now_unix: u64,
) -> Result<Issued, AuthError> {
    ensure_crypto_provider();
    let claims = Claims {
        iss: issuer.to_owned(),
        sub: subject.name.to_owned(),
        aud: audience.to_owned(),
        exp: now_unix.saturating_add(ttl_secs),
        nbf: now_unix,
        iat: now_unix,
        jti: uuid::Uuid::new_v4().to_string(),
        access,
        account: subject.account,
    };
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(key.kid.clone());
    let token = jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(&key.secret))
        .map_err(|e| AuthError::Internal(format!("could not sign token: {e}")))?;
    Ok(Issued { token, expires_in: ttl_secs, issued_at: now_unix })
}

/// Checks a token's signature, issuer, audience and validity window and returns its claims.
///
/// Only HS256 is accepted, whatever the header claims, so `alg: none` and algorithm-confusion
/// tokens are refused. The key is chosen by the header's `kid` among `keys`; dropping a key from
/// the list revokes every token it signed.
pub fn verify(
    keys: &[SigningKey],
    token: &str,
    issuer: &str,
    audience: &str,
    now_unix: u64,
) -> Result<Claims, AuthError> {
    let refuse = |why: &str| AuthError::InvalidToken(why.to_owned());
    if token.len() > MAX_TOKEN_BYTES {
        return Err(refuse("token is too large"));
    }
    ensure_crypto_provider();
    let header = jsonwebtoken::decode_header(token).map_err(|_| refuse("token is malformed"))?;
    if header.alg != Algorithm::HS256 {
        return Err(refuse("token uses an unsupported signature algorithm"));
    }
    let kid = header.kid.ok_or_else(|| refuse("token does not name its signing key"))?;
    let key = keys.iter().find(|k| k.kid == kid).ok_or_else(|| refuse("token was signed with an unknown key"))?;

    let claims =
        jsonwebtoken::decode::<Claims>(token, &DecodingKey::from_secret(&key.secret), &validation(issuer, audience))
            .map_err(|e| refuse(describe(e.kind())))?
            .claims;

    if now_unix >= claims.exp.saturating_add(CLOCK_SKEW_SECS) {
        return Err(refuse("token expired"));
    }
    if now_unix.saturating_add(CLOCK_SKEW_SECS) < claims.nbf {
        return Err(refuse("token is not valid yet"));
    }
    Ok(claims)
}

/// jsonwebtoken can only compare against the system clock, so its time checks are off and
/// [`verify`] applies them against the caller's `now`.
fn validation(issuer: &str, audience: &str) -> Validation {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.leeway = 0;
    validation.required_spec_claims =
        ["exp", "nbf", "iss", "aud", "sub"].into_iter().map(String::from).collect::<HashSet<_>>();
    validation.set_issuer(&[issuer]);
    validation.set_audience(&[audience]);
    validation
}

/// Turns a library error into a message fit for the client, without internals.
fn describe(kind: &ErrorKind) -> &'static str {
    match kind {
        ErrorKind::InvalidSignature => "token signature does not match",
        ErrorKind::InvalidIssuer => "token was issued by another issuer",
        ErrorKind::InvalidAudience => "token was issued for another service",
        ErrorKind::InvalidAlgorithm => "token uses an unsupported signature algorithm",
        ErrorKind::ExpiredSignature => "token expired",
        ErrorKind::ImmatureSignature => "token is not valid yet",
        _ => "token is malformed",
    }
}

#[cfg(test)]
mod tests;

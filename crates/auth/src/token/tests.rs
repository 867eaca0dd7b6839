use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use std::slice::from_ref;

use super::*;

const ISS: &str = "berth-token-service";
const AUD: &str = "berth-registry";
const NOW: u64 = 1_700_000_000;
const TTL: u64 = 300;

fn pull_push() -> Vec<Scope> {
    vec!["repository:team/app:pull,push".parse().unwrap()]
}

fn alice() -> Subject<'static> {
    Subject { name: "alice", account: Some(TokenAccount { kind: "user".into(), id: 7, stamp: 42 }) }
}

fn issue_with(key: &SigningKey) -> String {
    issue(key, ISS, AUD, alice(), pull_push(), TTL, NOW).unwrap().token
}

fn refusal(result: Result<Claims, AuthError>) -> String {
    match result {
        Err(AuthError::InvalidToken(message)) => message,
        other => panic!("expected the token to be refused, got {other:?}"),
    }
}

/// Builds a token by hand with an arbitrary header, as an attacker would.
fn forge(header: serde_json::Value, claims: &Claims, signature: &str) -> String {
    let header = URL_SAFE_NO_PAD.encode(header.to_string());
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_string(claims).unwrap());
    format!("{header}.{payload}.{signature}")
}

#[test]
fn round_trip() {
    let key = SigningKey::generate();
    let issued = issue(&key, ISS, AUD, alice(), pull_push(), TTL, NOW).unwrap();
    assert_eq!((issued.expires_in, issued.issued_at), (TTL, NOW));
    let header = jsonwebtoken::decode_header(&issued.token).unwrap();
    assert_eq!(
        (header.alg, header.typ.as_deref(), header.kid.as_deref()),
        (Algorithm::HS256, Some("JWT"), Some(&*key.kid))
    );

    let claims = verify(&[key], &issued.token, ISS, AUD, NOW + 10).unwrap();
    assert_eq!((claims.iss.as_str(), claims.aud.as_str(), claims.sub.as_str()), (ISS, AUD, "alice"));
    assert_eq!((claims.iat, claims.nbf, claims.exp), (NOW, NOW, NOW + TTL));
    assert_eq!(claims.access, pull_push());
    assert_eq!(claims.account, alice().account);
    assert!(uuid::Uuid::parse_str(&claims.jti).is_ok());
}

#[test]
fn anonymous_tokens_name_no_account() {
    let key = SigningKey::generate();
    let anonymous = Subject { name: "", account: None };
    let token = issue(&key, ISS, AUD, anonymous, pull_push(), TTL, NOW).unwrap().token;
    let payload = token.split('.').nth(1).unwrap();
    let json: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    assert!(json.get("account").is_none(), "{json}");
    assert_eq!(verify(&[key], &token, ISS, AUD, NOW).unwrap().account, None);
}

#[test]
fn each_token_gets_its_own_id() {
    let key = SigningKey::generate();
    let a = verify(from_ref(&key), &issue_with(&key), ISS, AUD, NOW).unwrap();
    let b = verify(from_ref(&key), &issue_with(&key), ISS, AUD, NOW).unwrap();
    assert_ne!(a.jti, b.jti);
}

#[test]
fn expired_tokens_are_refused_after_the_skew_allowance() {
    let key = SigningKey::generate();
    let token = issue_with(&key);
    assert!(verify(from_ref(&key), &token, ISS, AUD, NOW + TTL + CLOCK_SKEW_SECS - 1).is_ok());
    assert_eq!(refusal(verify(&[key], &token, ISS, AUD, NOW + TTL + CLOCK_SKEW_SECS)), "token expired");
}

#[test]
fn tokens_from_the_future_are_refused() {
    let key = SigningKey::generate();
    let token = issue_with(&key);
    assert!(verify(from_ref(&key), &token, ISS, AUD, NOW - CLOCK_SKEW_SECS).is_ok());
    assert_eq!(refusal(verify(&[key], &token, ISS, AUD, NOW - CLOCK_SKEW_SECS - 1)), "token is not valid yet");
}

#[test]
fn wrong_audience_or_issuer_is_refused() {
    let key = SigningKey::generate();
    let token = issue_with(&key);
    let keys = [key];
    assert_eq!(refusal(verify(&keys, &token, ISS, "other-registry", NOW)), "token was issued for another service");
    assert_eq!(refusal(verify(&keys, &token, "someone-else", AUD, NOW)), "token was issued by another issuer");
}

#[test]
fn unknown_kid_is_refused() {
    let token = issue_with(&SigningKey::generate());
    assert_eq!(
        refusal(verify(&[SigningKey::generate()], &token, ISS, AUD, NOW)),
        "token was signed with an unknown key"
    );
}

#[test]
fn same_kid_with_another_secret_fails_the_signature() {
    let key = SigningKey::from_parts("k1", b"first secret first secret first!".to_vec());
    let impostor = SigningKey::from_parts("k1", b"other secret other secret other!".to_vec());
    assert_eq!(refusal(verify(&[impostor], &issue_with(&key), ISS, AUD, NOW)), "token signature does not match");
}

#[test]
fn tampered_payload_is_refused() {
    let key = SigningKey::generate();
    let token = issue_with(&key);
    let (header, rest) = token.split_once('.').unwrap();
    let (payload, signature) = rest.split_once('.').unwrap();
    let mut bytes = payload.as_bytes().to_vec();
    let middle = bytes.len() / 2;
    bytes[middle] = if bytes[middle] == b'A' { b'B' } else { b'A' };
    let tampered = format!("{header}.{}.{signature}", String::from_utf8(bytes).unwrap());
    assert_eq!(refusal(verify(&[key], &tampered, ISS, AUD, NOW)), "token signature does not match");
}

#[test]
fn alg_none_is_refused() {
    let key = SigningKey::generate();
    let claims = verify(from_ref(&key), &issue_with(&key), ISS, AUD, NOW).unwrap();
    let forged = forge(serde_json::json!({"alg": "none", "typ": "JWT", "kid": key.kid}), &claims, "");
    // jsonwebtoken has no `none` algorithm, so the header itself does not parse.
    assert_eq!(refusal(verify(&[key], &forged, ISS, AUD, NOW)), "token is malformed");
}

#[test]
fn other_algorithms_are_refused_even_with_a_valid_hmac() {
    let key = SigningKey::generate();
    let claims = verify(from_ref(&key), &issue_with(&key), ISS, AUD, NOW).unwrap();
    for alg in ["RS256", "HS512", "ES256"] {
        let unsigned = forge(serde_json::json!({"alg": alg, "typ": "JWT", "kid": key.kid}), &claims, "");
        let message = unsigned.trim_end_matches('.');
        let signature =
            jsonwebtoken::crypto::sign(message.as_bytes(), &EncodingKey::from_secret(key.secret()), Algorithm::HS256)
                .unwrap();
        let forged = format!("{message}.{signature}");
        assert_eq!(
            refusal(verify(from_ref(&key), &forged, ISS, AUD, NOW)),
            "token uses an unsupported signature algorithm"
        );
    }
}

#[test]
fn key_rotation() {
    let old = SigningKey::generate();
    let new = SigningKey::generate();
    let token = issue_with(&old);
    assert!(verify(&[new.clone(), old.clone()], &token, ISS, AUD, NOW).is_ok());
    assert!(verify(&[new.clone(), old], &issue_with(&new), ISS, AUD, NOW).is_ok());
    assert_eq!(refusal(verify(&[new], &token, ISS, AUD, NOW)), "token was signed with an unknown key");
}

#[test]
fn oversized_and_garbage_tokens_are_refused() {
    let key = SigningKey::generate();
    let huge = format!("{}.{}.{}", "a".repeat(4096), "b".repeat(4096), "c");
    assert_eq!(refusal(verify(from_ref(&key), &huge, ISS, AUD, NOW)), "token is too large");
    for garbage in ["", "abc", "a.b.c", "...."] {
        assert_eq!(refusal(verify(from_ref(&key), garbage, ISS, AUD, NOW)), "token is malformed", "{garbage:?}");
    }
}

#[test]
fn generated_keys_are_random_and_debug_hides_the_secret() {
    let key = SigningKey::generate();
    assert_eq!(key.secret().len(), 32);
    assert_eq!(key.kid.len(), 16);
    assert!(key.kid.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_ne!(key.kid, SigningKey::generate().kid);
    let shown = format!("{key:?}");
    assert!(shown.contains(&key.kid) && shown.contains("redacted"));
    assert!(!shown.contains(&format!("{:?}", key.secret())));
    let rebuilt = SigningKey::from_parts(key.kid.clone(), key.secret().to_vec());
    assert!(verify(&[rebuilt], &issue_with(&key), ISS, AUD, NOW).is_ok());
}

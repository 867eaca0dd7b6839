//! Reading registry tokens in tests.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::Value;

/// Part `index` of a JWT (0 header, 1 claims) as JSON, read without
/// verifying the signature.
pub fn jwt_part(token: &str, index: usize) -> Value {
    let part = token.split('.').nth(index).unwrap_or_else(|| panic!("not a JWT: {token}"));
    let bytes = URL_SAFE_NO_PAD.decode(part).unwrap_or_else(|e| panic!("JWT part {index} is not base64url: {e}"));
    serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("JWT part {index} is not JSON: {e}"))
}

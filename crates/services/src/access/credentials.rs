//! What a client presents in `Authorization`: a username and password
//! (Basic, RFC 7617) or a registry token (Bearer).

use berth_core::{Error, Result};

/// Longest `Authorization` value considered; anything longer is refused
/// before any decoding.
const MAX_HEADER_BYTES: usize = 8 * 1024;

/// Credentials from one request.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    Basic { username: String, password: String },
    Bearer(String),
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::Basic { username, .. } => write!(f, "Basic({username}, <password>)"),
            Credentials::Bearer(_) => write!(f, "Bearer(<token>)"),
        }
    }
}

fn malformed(what: &str) -> Error {
    Error::Unauthorized(format!("malformed Authorization header: {what}"))
}

impl Credentials {
    /// Parses an `Authorization` header value.
    pub fn from_header(value: &[u8]) -> Result<Credentials> {
        if value.len() > MAX_HEADER_BYTES {
            return Err(malformed("longer than 8 KiB"));
        }
        let text = std::str::from_utf8(value).map_err(|_| malformed("not text"))?;
        let (scheme, rest) =
            text.trim().split_once(' ').ok_or_else(|| malformed("expected '<scheme> <credentials>'"))?;
        let rest = rest.trim();
        if scheme.eq_ignore_ascii_case("bearer") {
            if rest.is_empty() {
                return Err(malformed("empty bearer token"));
            }
            return Ok(Credentials::Bearer(rest.to_owned()));
        }
        if !scheme.eq_ignore_ascii_case("basic") {
            return Err(malformed("only the Basic and Bearer schemes are supported"));
        }
        let decoded = decode_base64(rest).ok_or_else(|| malformed("Basic credentials are not valid base64"))?;
        let pair = String::from_utf8(decoded).map_err(|_| malformed("Basic credentials are not UTF-8"))?;
        let (username, password) = pair.split_once(':').ok_or_else(|| malformed("Basic credentials lack ':'"))?;
        if username.is_empty() {
            return Err(malformed("empty username"));
        }
        Ok(Credentials::Basic { username: username.to_owned(), password: password.to_owned() })
    }
}

fn decode_base64(s: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(s).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_basic_and_bearer() {
        // "alice:pa:ss" — a password may contain ':'.
        let c = Credentials::from_header(b"Basic YWxpY2U6cGE6c3M=").unwrap();
        assert_eq!(c, Credentials::Basic { username: "alice".into(), password: "pa:ss".into() });
        assert_eq!(Credentials::from_header(b"bearer abc.def").unwrap(), Credentials::Bearer("abc.def".into()));
    }

    #[test]
    fn refuses_garbage_with_a_reason() {
        for bad in [&b"Basic !!!"[..], b"Digest x", b"Basic", b"Bearer ", b"Basic OmZvbw==", b"\xff\xfe"] {
            let e = Credentials::from_header(bad).unwrap_err();
            assert!(matches!(e, Error::Unauthorized(ref m) if m.starts_with("malformed")), "{bad:?}: {e}");
        }
        assert!(Credentials::from_header(&vec![b'a'; 9000]).is_err());
    }

    #[test]
    fn debug_hides_secrets() {
        let c = Credentials::Basic { username: "u".into(), password: "hunter2".into() };
        assert!(!format!("{c:?}").contains("hunter2"));
    }
}

//! The token realm: the URL of `/service/token` that a 401 challenge sends
//! clients to. Until an external URL is configured it comes from the
//! request's `Host`, which must therefore be a plain `host[:port]`:
//! anything else is refused rather than echoed into a header that tells
//! clients where to send their passwords.

use std::net::Ipv6Addr;

use berth_core::Error;
use http::{HeaderMap, Uri};

use crate::error::ApiError;

/// The token endpoint's URL as this client reaches the server.
pub(crate) fn token_realm(headers: &HeaderMap, uri: &Uri) -> Result<String, ApiError> {
    let host = match headers.get(http::header::HOST) {
        Some(h) => h.to_str().ok(),
        None => uri.authority().map(|a| a.as_str()),
    };
    let host = host.filter(|h| is_host_and_port(h)).ok_or_else(|| {
        ApiError::Domain(Error::Invalid(
            "the Host header must be a host name or IP address, with an optional port".into(),
        ))
    })?;
    let forwarded_https = headers.get("x-forwarded-proto").is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https"));
    let scheme = if forwarded_https { "https" } else { "http" };
    Ok(format!("{scheme}://{host}/service/token"))
}

/// `name`, `1.2.3.4` or `[::1]`, each with an optional `:port` (1-65535).
fn is_host_and_port(s: &str) -> bool {
    let (host, port) = match s.rfind(':') {
        Some(i) if !s[i..].contains(']') => (&s[..i], Some(&s[i + 1..])),
        _ => (s, None),
    };
    let port_ok = port.is_none_or(|p| {
        !p.is_empty()
            && p.len() <= 5
            && p.bytes().all(|b| b.is_ascii_digit())
            && p.parse::<u32>().is_ok_and(|n| (1..=65_535).contains(&n))
    });
    let host_ok = match host.strip_prefix('[') {
        Some(rest) => rest.strip_suffix(']').is_some_and(|ip| ip.parse::<Ipv6Addr>().is_ok()),
        None => berth_core::dns::is_dns_name(host),
    };
    port_ok && host_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_and_ports() {
        for good in ["localhost", "127.0.0.1:5000", "registry.example.com", "[::1]:443", "[fe80::1]", "a-b.c:1"] {
            assert!(is_host_and_port(good), "{good}");
        }
        for bad in [
            "",
            "evil.com/path",
            "evil.com@x",
            "a b",
            "x:0",
            "x:65536",
            "x:",
            "x:12a",
            "[::1",
            "[zz]:1",
            "-a.com",
            "a..b",
            "x\"y",
            "host:80:80",
            "evil.com#",
        ] {
            assert!(!is_host_and_port(bad), "{bad:?}");
        }
    }

    #[test]
    fn realm_uses_the_host_or_refuses_it() {
        let uri: Uri = "/v2/".parse().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(http::header::HOST, "127.0.0.1:5000".parse().unwrap());
        assert_eq!(token_realm(&headers, &uri).unwrap(), "http://127.0.0.1:5000/service/token");
        headers.insert(http::header::HOST, "evil.example/x?".parse().unwrap());
        assert!(token_realm(&headers, &uri).is_err());
        assert!(token_realm(&HeaderMap::new(), &uri).is_err(), "no Host at all");
    }
}

//! Timestamps as the APIs write them.

use std::time::{Duration, UNIX_EPOCH};

/// `2026-11-23T15:04:05Z` for a Unix time in seconds.
pub fn rfc3339(unix_secs: i64) -> String {
    let t = UNIX_EPOCH + Duration::from_secs(unix_secs.max(0) as u64);
    humantime::format_rfc3339_seconds(t).to_string()
}

/// Unix seconds of an RFC 3339 time (`2026-11-23T15:04:05Z`), if valid.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let t = humantime::parse_rfc3339_weak(s).ok()?;
    t.duration_since(UNIX_EPOCH).ok().map(|d| d.as_secs() as i64)
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_and_parses_utc_seconds() {
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::rfc3339(1_795_000_000), "2026-11-18T11:06:40Z");
        assert_eq!(super::parse_rfc3339("2026-11-18T11:06:40Z"), Some(1_795_000_000));
        assert_eq!(super::parse_rfc3339("yesterday"), None);
    }
}

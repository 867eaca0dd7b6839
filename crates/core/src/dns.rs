//! DNS host names as URLs, `Host` headers and e-mail addresses write them.

/// One label: 1 to 63 ASCII letters, digits and hyphens, neither starting
/// nor ending with a hyphen.
pub fn is_dns_label(label: &str) -> bool {
    (1..=63).contains(&label.len())
        && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !label.starts_with('-')
        && !label.ends_with('-')
}

/// Dot-separated labels, at most 253 characters in all (IPv4 addresses are
/// such names too).
pub fn is_dns_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 253 && name.split('.').all(is_dns_label)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_and_names() {
        for good in ["a", "a-b", "x1", "registry.example.com", "10.0.0.1"] {
            assert!(is_dns_name(good), "{good}");
        }
        for bad in ["", "-a", "a-", "a..b", "a_b", "a b", ".a", &"a".repeat(64), &"a.".repeat(127)] {
            assert!(!is_dns_name(bad), "{bad:?}");
        }
    }
}

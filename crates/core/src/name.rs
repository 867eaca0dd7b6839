//! Repository names (`library/alpine`, `team/app/api`).

use std::fmt;
use std::str::FromStr;

use crate::digest::truncate;
use crate::error::Error;

/// Longest repository name accepted, in bytes.
pub const MAX_NAME_LEN: usize = 255;

/// The project single-component names belong to, as on Docker Hub.
pub const DEFAULT_PROJECT: &str = "library";

/// A repository name valid under the OCI distribution spec grammar:
/// lowercase alphanumeric path components separated by `/`, each component
/// possibly using `.`, `_`, `__` or runs of `-` between alphanumerics.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RepoName(String);

impl RepoName {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name with Docker Hub's convention applied: a single-component
    /// name (`alpine`) lives in the `library` project (`library/alpine`).
    pub fn in_default_project(self) -> RepoName {
        if self.0.contains('/') {
            self
        } else {
            RepoName(format!("{DEFAULT_PROJECT}/{}", self.0))
        }
    }

    /// The first path component, which names the project.
    pub fn project(&self) -> &str {
        self.0.split('/').next().unwrap_or(&self.0)
    }
}

fn component_is_valid(c: &str) -> bool {
    let b = c.as_bytes();
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        // A separator run: ".", "_", "__" or one or more "-".
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|x| x == b'-');
        if !ok {
            return false;
        }
    }
    true
}

impl FromStr for RepoName {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        if s.is_empty() {
            return Err(Error::NameInvalid("repository name must not be empty".into()));
        }
        if s.len() > MAX_NAME_LEN {
            return Err(Error::NameInvalid(format!(
                "repository name is {} bytes long; the limit is {MAX_NAME_LEN}",
                s.len()
            )));
        }
        if let Some(bad) = s.split('/').find(|c| !component_is_valid(c)) {
            return Err(Error::NameInvalid(format!(
                "invalid repository name {:?}: component {:?} must be lowercase letters and digits, \
                 optionally joined by '.', '_', '__' or '-'",
                truncate(s),
                truncate(bad)
            )));
        }
        Ok(RepoName(s.to_owned()))
    }
}

impl fmt::Display for RepoName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for RepoName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_component_names_live_in_library() {
        let n = |s: &str| s.parse::<RepoName>().unwrap().in_default_project();
        assert_eq!(n("alpine").as_str(), "library/alpine");
        assert_eq!(n("team/app").as_str(), "team/app");
        assert_eq!(n("alpine").project(), "library");
    }

    #[test]
    fn accepts_valid_names() {
        for ok in ["a", "library/alpine", "a0/b.c/d_e/f__g/h---i", "x/y/z/w", "my-app.v2"] {
            assert!(ok.parse::<RepoName>().is_ok(), "{ok} refused");
        }
    }

    #[test]
    fn rejects_invalid_names() {
        let long = "a".repeat(256);
        for bad in
            ["", "A", "a/", "/a", "a//b", "-a", "a-", "a..b", "a___b", "a._b", "UPPER/x", "a b", "a:b", "a/../b", &long]
        {
            assert!(bad.parse::<RepoName>().is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn project_is_first_component() {
        let n: RepoName = "team/app/api".parse().unwrap();
        assert_eq!(n.project(), "team");
    }
}

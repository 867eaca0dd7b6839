//! Docker token-auth scopes: `repository:samalba/my-app:pull,push`, `registry:catalog:*`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::AuthError;

/// Longer scopes are refused before any work; real ones are a repository name plus a few actions.
const MAX_SCOPE_BYTES: usize = 512;

/// One requested (or granted) access: a resource type, a resource name and the actions on it.
///
/// The serde shape is the JWT `access` claim entry: `{"type": …, "name": …, "actions": […]}`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Scope {
    /// `repository` or `registry` in practice; other types parse so the token server can ignore them.
    #[serde(rename = "type")]
    pub kind: String,
    /// The resource name; for repositories it may contain `:` (a registry host with a port).
    pub name: String,
    /// Requested actions in the order given, without duplicates.
    pub actions: Vec<String>,
}

impl Scope {
    /// Adds the actions of `other` not already present, keeping the existing order.
    fn absorb(&mut self, other: Scope) {
        for action in other.actions {
            if !self.actions.contains(&action) {
                self.actions.push(action);
            }
        }
    }
}

impl FromStr for Scope {
    type Err = AuthError;

    /// Parses `type[(class)]:name:actions`.
    ///
    /// The type ends at the first `:` and the actions start after the last one, so names keep any
    /// `:` they contain. The resource class (`repository(plugin)`) only matters to Docker plugins
    /// and is dropped.
    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let invalid = |why: &str| AuthError::InvalidScope(format!("scope \"{}\" {why}", shorten(raw)));
        if raw.len() > MAX_SCOPE_BYTES {
            return Err(invalid("is longer than 512 bytes"));
        }
        let (Some(first), Some(last)) = (raw.find(':'), raw.rfind(':')) else {
            return Err(invalid("must have the form type:name:actions"));
        };
        if first == last {
            return Err(invalid("must have the form type:name:actions"));
        }
        let kind = parse_type(&raw[..first]).map_err(invalid)?;
        let name = &raw[first + 1..last];
        if name.is_empty() {
            return Err(invalid("has an empty name"));
        }
        let mut actions: Vec<String> = Vec::new();
        for action in raw[last + 1..].split(',').filter(|a| !a.is_empty()) {
            if !actions.iter().any(|known| known == action) {
                actions.push(action.to_owned());
            }
        }
        Ok(Scope { kind: kind.to_owned(), name: name.to_owned(), actions })
    }
}

/// Strips an optional `(class)` and checks the remaining type against the spec's `[a-z0-9._-]+`.
fn parse_type(raw: &str) -> Result<&str, &'static str> {
    let kind = match raw.split_once('(') {
        Some((kind, rest)) => {
            let class = rest.strip_suffix(')').ok_or("has an unclosed resource class in its type")?;
            if class.is_empty() || !class.bytes().all(is_type_byte) {
                return Err("has unknown characters in its resource class");
            }
            kind
        }
        None => raw,
    };
    if kind.is_empty() {
        return Err("has an empty type");
    }
    if !kind.bytes().all(is_type_byte) {
        return Err("has unknown characters in its type");
    }
    Ok(kind)
}

fn is_type_byte(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
}

/// Keeps error messages readable when someone sends a huge scope.
fn shorten(raw: &str) -> &str {
    match raw.char_indices().nth(64) {
        Some((cut, _)) => &raw[..cut],
        None => raw,
    }
}

impl fmt::Display for Scope {
    /// The canonical `type:name:a,b` form, without any resource class.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.kind, self.name, self.actions.join(","))
    }
}

/// Parses every `scope` value of a token request into a merged list.
///
/// Docker repeats the `scope` parameter while some clients join scopes with spaces, so each value
/// may hold several. Scopes for the same type and name are merged (union of actions), keeping the
/// order in which they first appeared.
pub fn parse_scopes<'a>(raw: impl IntoIterator<Item = &'a str>) -> Result<Vec<Scope>, AuthError> {
    let mut merged: Vec<Scope> = Vec::new();
    for value in raw {
        for part in value.split_whitespace() {
            let scope: Scope = part.parse()?;
            match merged.iter_mut().find(|s| s.kind == scope.kind && s.name == scope.name) {
                Some(existing) => existing.absorb(scope),
                None => merged.push(scope),
            }
        }
    }
    Ok(merged)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(raw: &str) -> Scope {
        raw.parse().unwrap()
    }

    fn error(raw: &str) -> String {
        match raw.parse::<Scope>() {
            Err(AuthError::InvalidScope(message)) => message,
            other => panic!("expected an invalid-scope error for {raw:?}, got {other:?}"),
        }
    }

    #[test]
    fn parses_the_documented_examples() {
        let s = scope("repository:samalba/my-app:pull,push");
        assert_eq!((s.kind.as_str(), s.name.as_str()), ("repository", "samalba/my-app"));
        assert_eq!(s.actions, ["pull", "push"]);
        assert_eq!(scope("registry:catalog:*").actions, ["*"]);
        let plugin = scope("repository(plugin):vieux/sshfs:pull");
        assert_eq!((plugin.kind.as_str(), plugin.name.as_str()), ("repository", "vieux/sshfs"));
    }

    #[test]
    fn name_keeps_inner_colons() {
        let s = scope("repository:localhost:5000/team/app:pull");
        assert_eq!(s.name, "localhost:5000/team/app");
        assert_eq!(s.actions, ["pull"]);
    }

    #[test]
    fn actions_drop_empties_and_duplicates_in_order() {
        assert_eq!(scope("repository:a:push,,pull,push,").actions, ["push", "pull"]);
        assert!(scope("repository:a:").actions.is_empty());
    }

    #[test]
    fn display_is_canonical() {
        assert_eq!(scope("repository(plugin):a/b:pull,pull,push").to_string(), "repository:a/b:pull,push");
        assert_eq!(scope("registry:catalog:*").to_string(), "registry:catalog:*");
    }

    #[test]
    fn malformed_scopes_say_what_is_wrong() {
        assert!(error("repository").contains("type:name:actions"));
        assert!(error("repository:app").contains("type:name:actions"));
        assert!(error("repository::pull").contains("empty name"));
        assert!(error(":app:pull").contains("empty type"));
        assert!(error("(plugin):app:pull").contains("empty type"));
        assert!(error("Repo$:app:pull").contains("unknown characters in its type"));
        assert!(error("repository(plugin:app:pull").contains("unclosed"));
        assert!(error("repository(Plug in):app:pull").contains("resource class"));
        let long = format!("repository:{}:pull", "a".repeat(600));
        let message = error(&long);
        assert!(message.contains("longer than 512 bytes"));
        assert!(message.len() < 150, "{message}");
    }

    #[test]
    fn parse_scopes_splits_on_spaces_and_merges() {
        let scopes = parse_scopes([
            "repository:a/b:pull",
            "registry:catalog:* repository:c:pull",
            "  repository:a/b:push,pull  ",
        ])
        .unwrap();
        let shown: Vec<String> = scopes.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["repository:a/b:pull,push", "registry:catalog:*", "repository:c:pull"]);
        assert!(parse_scopes(["", "   "]).unwrap().is_empty());
        assert!(parse_scopes(["repository:a:pull", "bad"]).is_err());
    }

    #[test]
    fn json_shape_matches_the_access_claim() {
        let json = serde_json::to_value(scope("repository:a/b:pull,push")).unwrap();
        assert_eq!(json, serde_json::json!({"type": "repository", "name": "a/b", "actions": ["pull", "push"]}));
        let back: Scope = serde_json::from_value(json).unwrap();
        assert_eq!(back, scope("repository:a/b:pull,push"));
    }
}

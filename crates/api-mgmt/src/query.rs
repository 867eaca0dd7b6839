//! Query strings: plain parameters and Harbor's `q` search language
//! (`q=key=value,key=~fuzzy,op_time=[from~to]`).

use std::collections::HashMap;

use crate::error::{bad_request, ApiResult};

/// Decoded query parameters (the last value wins).
pub(crate) struct Params(HashMap<String, String>);

impl Params {
    pub(crate) fn from_uri(uri: &http::Uri) -> Params {
        Params(form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes()).into_owned().collect())
    }

    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// The terms of `q`.
    pub(crate) fn search(&self) -> ApiResult<Vec<Term>> {
        self.get("q").map(parse_q).unwrap_or_else(|| Ok(vec![]))
    }
}

/// One term of a `q` search.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Term {
    Exact(String, String),
    Fuzzy(String, String),
    Range(String, Option<String>, Option<String>),
}

impl Term {
    pub(crate) fn key(&self) -> &str {
        match self {
            Term::Exact(k, _) | Term::Fuzzy(k, _) | Term::Range(k, ..) => k,
        }
    }
}

fn parse_q(q: &str) -> ApiResult<Vec<Term>> {
    let mut terms = Vec::new();
    for part in split_terms(q) {
        let (key, value) = part.split_once('=').ok_or_else(|| bad_request(format!("q term '{part}' lacks '='")))?;
        let key = key.trim().to_owned();
        if key.is_empty() {
            return Err(bad_request("q term with an empty key"));
        }
        let term = if let Some(fuzzy) = value.strip_prefix('~') {
            Term::Fuzzy(key, fuzzy.to_owned())
        } else if let Some(range) = value.strip_prefix('[').and_then(|v| v.strip_suffix(']')) {
            let (from, to) = range.split_once('~').ok_or_else(|| bad_request("a q range is written [from~to]"))?;
            let bound = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_owned());
            Term::Range(key, bound(from), bound(to))
        } else {
            Term::Exact(key, value.to_owned())
        };
        terms.push(term);
    }
    Ok(terms)
}

/// Splits on commas outside `[...]`.
fn split_terms(q: &str) -> Vec<&str> {
    let (mut out, mut depth, mut start) = (Vec::new(), 0i32, 0);
    for (i, c) in q.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&q[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&q[start..]);
    out.into_iter().filter(|t| !t.trim().is_empty()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_harbor_q() {
        let t = parse_q("username=admin,resource=~lib,op_time=[2026-01-01 00:00:00~2026-12-31 23:59:59]").unwrap();
        assert_eq!(t[0], Term::Exact("username".into(), "admin".into()));
        assert_eq!(t[1], Term::Fuzzy("resource".into(), "lib".into()));
        assert_eq!(
            t[2],
            Term::Range("op_time".into(), Some("2026-01-01 00:00:00".into()), Some("2026-12-31 23:59:59".into()))
        );
        assert!(parse_q("novalue").is_err());
        assert!(parse_q("=x").is_err());
        // SQL-looking text is just a value.
        assert_eq!(parse_q("username=x' OR 1=1--").unwrap()[0], Term::Exact("username".into(), "x' OR 1=1--".into()));
    }
}

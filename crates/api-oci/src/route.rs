//! Recognizing `/v2/` paths. Repository names contain slashes, so routes
//! are recognized by their fixed tail (`/manifests/<ref>`, `/blobs/…`).

use berth_core::{Digest, Reference, RepoName, Result};

/// A parsed `/v2/` path.
#[derive(Debug, Clone, PartialEq)]
pub enum Route {
    /// `/v2/`
    Base,
    /// `/v2/_catalog`
    Catalog,
    /// `/v2/<name>/tags/list`
    Tags(RepoName),
    /// `/v2/<name>/manifests/<reference>`
    Manifest(RepoName, Reference),
    /// `/v2/<name>/manifests/<x>` where `x` is neither a tag nor a digest
    /// Berth accepts, kept as sent: nothing can be stored under it, so
    /// reads and deletes find nothing while pushes are refused as invalid.
    /// Which applies depends on the method, known only after routing.
    ImpossibleManifest(RepoName, String),
    /// `/v2/<name>/blobs/<digest>`
    Blob(RepoName, Digest),
    /// `/v2/<name>/blobs/<x>` where `x` is not a digest Berth accepts, kept
    /// as sent: no blob can exist under it.
    ImpossibleBlob(RepoName, String),
    /// `/v2/<name>/blobs/uploads/`
    UploadStart(RepoName),
    /// `/v2/<name>/blobs/uploads/<id>`
    Upload(RepoName, String),
    /// `/v2/<name>/referrers/<digest>`
    Referrers(RepoName, Digest),
}

/// What a request does to a repository; the permission it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Nothing repository-specific (`/v2/`).
    None,
    Pull,
    Push,
    Delete,
    /// Listing every repository.
    Catalog,
}

impl Route {
    /// Parses a request path (`/v2/...`). `Ok(None)` means no route has
    /// that shape.
    pub fn from_path(path: &str) -> Result<Option<Route>> {
        Route::parse(path.strip_prefix("/v2").unwrap_or_default().trim_start_matches('/'))
    }

    /// Parses the part of the path after `/v2/`. `Ok(None)` means no route
    /// has that shape.
    pub fn parse(rest: &str) -> Result<Option<Route>> {
        if rest.is_empty() {
            return Ok(Some(Route::Base));
        }
        if rest == "_catalog" {
            return Ok(Some(Route::Catalog));
        }
        let parts: Vec<&str> = rest.split('/').collect();
        let n = parts.len();
        let name =
            |upto: usize| -> Result<RepoName> { Ok(parts[..upto].join("/").parse::<RepoName>()?.in_default_project()) };
        let tail = |k: usize| -> &[&str] { &parts[n.saturating_sub(k)..] };
        let route = match () {
            _ if n >= 3 && tail(2) == ["tags", "list"] => Route::Tags(name(n - 2)?),
            _ if n >= 4 && tail(3) == ["blobs", "uploads", ""] => Route::UploadStart(name(n - 3)?),
            _ if n >= 3 && tail(2) == ["blobs", "uploads"] => Route::UploadStart(name(n - 2)?),
            _ if n >= 4 && tail(3)[..2] == ["blobs", "uploads"] => Route::Upload(name(n - 3)?, parts[n - 1].to_owned()),
            _ if n >= 3 && parts[n - 2] == "blobs" => match parts[n - 1].parse() {
                Ok(digest) => Route::Blob(name(n - 2)?, digest),
                Err(_) => Route::ImpossibleBlob(name(n - 2)?, parts[n - 1].to_owned()),
            },
            _ if n >= 3 && parts[n - 2] == "manifests" => match parts[n - 1].parse() {
                Ok(reference) => Route::Manifest(name(n - 2)?, reference),
                Err(_) => Route::ImpossibleManifest(name(n - 2)?, parts[n - 1].to_owned()),
            },
            _ if n >= 3 && parts[n - 2] == "referrers" => Route::Referrers(name(n - 2)?, parts[n - 1].parse()?),
            _ => return Ok(None),
        };
        Ok(Some(route))
    }

    /// The repository the route addresses, if any.
    pub fn repository(&self) -> Option<&RepoName> {
        match self {
            Route::Base | Route::Catalog => None,
            Route::Tags(n) | Route::Manifest(n, _) | Route::Blob(n, _) | Route::UploadStart(n) => Some(n),
            Route::ImpossibleManifest(n, _) | Route::ImpossibleBlob(n, _) => Some(n),
            Route::Upload(n, _) | Route::Referrers(n, _) => Some(n),
        }
    }

    /// The permission a request with `method` on this route needs, or
    /// `None` if the route does not answer that method.
    pub fn action(&self, method: &http::Method) -> Option<Action> {
        use http::Method as M;
        let m = method;
        let read = m == M::GET || m == M::HEAD;
        match self {
            Route::Base if read => Some(Action::None),
            Route::Catalog if m == M::GET => Some(Action::Catalog),
            Route::Tags(_) | Route::Referrers(..) if m == M::GET => Some(Action::Pull),
            // An impossible reference needs the permission a possible one
            // would, so answering it tells a caller nothing they could not
            // learn otherwise.
            Route::Manifest(..) | Route::ImpossibleManifest(..) if read => Some(Action::Pull),
            Route::Blob(..) | Route::ImpossibleBlob(..) if read => Some(Action::Pull),
            Route::Manifest(..) | Route::ImpossibleManifest(..) if m == M::PUT => Some(Action::Push),
            Route::Manifest(..) | Route::ImpossibleManifest(..) if m == M::DELETE => Some(Action::Delete),
            Route::Blob(..) | Route::ImpossibleBlob(..) if m == M::DELETE => Some(Action::Delete),
            Route::UploadStart(_) if m == M::POST => Some(Action::Push),
            Route::Upload(..) if m == M::GET || m == M::PATCH || m == M::PUT || m == M::DELETE => Some(Action::Push),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    fn parse(p: &str) -> Route {
        Route::parse(p).unwrap().unwrap()
    }

    #[test]
    fn recognizes_every_route() {
        let name = |s: &str| s.parse::<RepoName>().unwrap();
        assert_eq!(parse(""), Route::Base);
        assert_eq!(parse("_catalog"), Route::Catalog);
        assert_eq!(parse("a/b/tags/list"), Route::Tags(name("a/b")));
        assert_eq!(parse("a/manifests/latest"), Route::Manifest(name("library/a"), "latest".parse().unwrap()));
        assert_eq!(parse(&format!("a/b/c/blobs/{D}")), Route::Blob(name("a/b/c"), D.parse().unwrap()));
        assert_eq!(parse("a/b/blobs/uploads/"), Route::UploadStart(name("a/b")));
        assert_eq!(parse("a/b/blobs/uploads"), Route::UploadStart(name("a/b")));
        assert_eq!(parse("a/b/blobs/uploads/xyz"), Route::Upload(name("a/b"), "xyz".into()));
        assert_eq!(parse(&format!("a/b/referrers/{D}")), Route::Referrers(name("a/b"), D.parse().unwrap()));
        // Names may contain route words as components.
        assert_eq!(parse("manifests/x/manifests/v1"), Route::Manifest(name("manifests/x"), "v1".parse().unwrap()));
    }

    #[test]
    fn bad_parts_are_errors_unknown_shapes_are_none() {
        assert!(Route::parse("A/manifests/latest").is_err());
        assert!(Route::parse("A/manifests/-bad").is_err(), "a bad name is refused whatever the reference");
        assert!(Route::parse("a/referrers/sha256:abc").is_err());
        assert_eq!(Route::parse("a/b").unwrap(), None);
        assert_eq!(Route::parse("tags/list").unwrap(), None);
    }

    #[test]
    fn impossible_references_are_routed_as_sent() {
        let name = |s: &str| s.parse::<RepoName>().unwrap();
        for r in ["-bad", "sha256:abc", "md5:d41d8cd98f00b204e9800998ecf8427e", "t%20x", ".x"] {
            let got = parse(&format!("a/manifests/{r}"));
            assert_eq!(got, Route::ImpossibleManifest(name("library/a"), r.into()));
            assert_eq!(got.repository(), Some(&name("library/a")));
        }
        for d in ["sha256:abc", "latest", "SHA256:E3B0", "sha256"] {
            assert_eq!(parse(&format!("a/b/blobs/{d}")), Route::ImpossibleBlob(name("a/b"), d.into()));
        }
    }

    #[test]
    fn impossible_references_need_the_permissions_possible_ones_do() {
        use http::Method;
        let pairs = [
            (parse("a/manifests/v1"), parse("a/manifests/-bad")),
            (parse(&format!("a/blobs/{D}")), parse("a/blobs/sha256:abc")),
        ];
        for (possible, impossible) in &pairs {
            for m in [Method::GET, Method::HEAD, Method::PUT, Method::POST, Method::PATCH, Method::DELETE] {
                assert_eq!(possible.action(&m), impossible.action(&m), "{impossible:?} {m}");
            }
        }
    }

    #[test]
    fn every_route_declares_its_permission() {
        use http::Method;
        let routes = [
            parse(""),
            parse("_catalog"),
            parse("a/tags/list"),
            parse("a/manifests/v1"),
            parse("a/manifests/-bad"),
            parse(&format!("a/blobs/{D}")),
            parse("a/blobs/sha256:abc"),
            parse("a/blobs/uploads/"),
            parse("a/blobs/uploads/x"),
            parse(&format!("a/referrers/{D}")),
        ];
        for r in &routes {
            let answered = [Method::GET, Method::HEAD, Method::PUT, Method::POST, Method::PATCH, Method::DELETE]
                .iter()
                .filter(|m| r.action(m).is_some())
                .count();
            assert!(answered > 0, "{r:?} answers no method");
        }
        assert_eq!(parse("a/manifests/v1").action(&Method::PUT), Some(Action::Push));
        assert_eq!(parse("a/manifests/v1").action(&Method::DELETE), Some(Action::Delete));
        assert_eq!(parse("a/manifests/v1").action(&Method::POST), None);
    }
}

//! Who is calling `/v2/` and whether they may: credentials from
//! `Authorization`, the per-route check, and the Bearer challenge that
//! tells clients where to get a token.

use axum::response::Response;
use berth_services::access::{Caller, Credentials, RepoAction, Surface, TOKEN_SERVICE};
use berth_services::Access;
use http::{HeaderMap, HeaderValue, StatusCode};

use crate::error::ApiError;
use crate::route::{Action, Route};

/// The client's address as the connection shows it.
pub(crate) fn client_address(extensions: &http::Extensions) -> String {
    crate::client::ip(extensions).map(|ip| ip.to_string()).unwrap_or_default()
}

/// Credentials from `Authorization`, if any; unreadable ones are errors.
pub(crate) fn credentials(headers: &HeaderMap) -> Result<Option<Credentials>, ApiError> {
    let Some(v) = headers.get(http::header::AUTHORIZATION) else { return Ok(None) };
    Ok(Some(Credentials::from_header(v.as_bytes())?))
}

/// Identifies the caller of `/v2/`. A request without credentials is
/// challenged before anything else happens (anonymous tokens serve public
/// pulls), so clients authenticate before they send a body: containerd, for
/// one, cannot resend a manifest after a 401 on its `PUT`.
pub(crate) async fn caller(access: &Access, headers: &HeaderMap, ext: &http::Extensions) -> Result<Caller, ApiError> {
    let Some(credentials) = credentials(headers)? else {
        return Err(berth_core::Error::Unauthorized(
            "authentication required: get a token from the realm named in WWW-Authenticate \
             (anonymous tokens serve public pulls)"
                .into(),
        )
        .into());
    };
    Ok(access.authenticate(Some(credentials), &client_address(ext), Surface::Registry).await?)
}

/// Requires `caller` to be allowed `action` on `route`.
pub(crate) async fn authorize(access: &Access, caller: &Caller, route: &Route, action: Action) -> Result<(), ApiError> {
    let repo_action = match action {
        // Any valid credential, an anonymous token included, may see that
        // this is a registry.
        Action::None => return Ok(()),
        Action::Catalog => return Ok(access.authorize_catalog(caller)?),
        Action::Pull => RepoAction::Pull,
        Action::Push => RepoAction::Push,
        Action::Delete => RepoAction::Delete,
    };
    let Some(repo) = route.repository() else { return Ok(()) };
    Ok(access.authorize_repository(caller, repo, repo_action).await?)
}

/// The scope a client should ask a token for to make this request.
pub(crate) fn scope_for(route: &Route, action: Action) -> Option<String> {
    match (route.repository(), action) {
        (_, Action::Catalog) => Some("registry:catalog:*".into()),
        (Some(repo), Action::Pull) => Some(format!("repository:{repo}:pull")),
        (Some(repo), Action::Push) => Some(format!("repository:{repo}:pull,push")),
        (Some(repo), Action::Delete) => Some(format!("repository:{repo}:delete")),
        _ => None,
    }
}

/// Adds `WWW-Authenticate: Bearer ...` to a 401 response.
pub(crate) fn add_challenge(resp: &mut Response, realm: &str, scope: Option<&str>) {
    if resp.status() != StatusCode::UNAUTHORIZED {
        return;
    }
    let mut challenge = format!(r#"Bearer realm="{realm}",service="{TOKEN_SERVICE}""#);
    if let Some(scope) = scope {
        challenge.push_str(&format!(r#",scope="{scope}""#));
    }
    if let Ok(v) = HeaderValue::from_str(&challenge) {
        resp.headers_mut().insert(http::header::WWW_AUTHENTICATE, v);
    }
}

//! `/service/token`: Docker token authentication. `GET` (Docker's original
//! flow) takes Basic credentials or none; `POST` is the OAuth2 flow
//! (password and refresh-token grants) that containerd and Docker use.
//! Neither accepts a token as credentials: a token is never traded for
//! another one. Either way the client gets a short-lived token holding the
//! part of the requested scopes it is allowed.

mod get;
mod post;

use axum::response::{IntoResponse, Response};
use berth_auth::Scope;
use berth_services::access::{Caller, Credentials, Principal, Surface};
use berth_services::audit::AuditEvent;
use berth_services::Services;
use serde_json::{json, Map, Value};

pub(crate) use get::get;
pub(crate) use post::post;

/// A token response: the access token for `scopes`, and the refresh token
/// to hand out, if any.
async fn respond(
    services: &Services,
    caller: &Caller,
    scopes: &[Scope],
    refresh_token: Option<String>,
) -> Result<Response, berth_core::Error> {
    let issued = services.access.issue_token(caller, scopes).await?;
    let mut body = Map::new();
    body.insert("token".into(), json!(issued.token));
    body.insert("access_token".into(), json!(issued.token));
    body.insert("token_type".into(), json!("Bearer"));
    body.insert("expires_in".into(), json!(issued.expires_in));
    body.insert("issued_at".into(), json!(berth_core::time::rfc3339(issued.issued_at as i64)));
    if let Some(refresh) = refresh_token {
        body.insert("refresh_token".into(), json!(refresh));
    }
    Ok(axum::Json(Value::Object(body)).into_response())
}

/// Identifies a token request's caller (Basic credentials or none; never a
/// token), recording a failed sign-in under the name it tried.
async fn authenticate(
    services: &Services,
    credentials: Option<Credentials>,
    client_address: &str,
) -> berth_core::Result<Caller> {
    let tried = match &credentials {
        Some(Credentials::Basic { username, .. }) => Some(username.clone()),
        _ => None,
    };
    let result = services.access.authenticate(credentials, client_address, Surface::TokenService).await;
    if let (Err(_), Some(username)) = (&result, tried) {
        services.audit.record(AuditEvent::login(username, client_address.to_owned(), false)).await;
    }
    result
}

/// `docker login` asks for a token with no scope: that is the sign-in.
async fn record_sign_in(services: &Services, caller: &Caller, scopes: &[Scope]) {
    if scopes.is_empty() && !matches!(caller.principal, Principal::Anonymous) {
        let event = AuditEvent::login(caller.principal.name().to_owned(), caller.client_address.clone(), true);
        services.audit.record(event).await;
    }
}

//! `GET /service/token`: the Docker token-authentication endpoint. Clients
//! present a username and password (or nothing, for anonymous pulls) and
//! the scopes they want; they get a short-lived token holding the part of
//! those scopes they are allowed.

use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use berth_services::audit::AuditEvent;
use berth_services::Services;
use http::StatusCode;
use serde_json::json;

use crate::auth;
use crate::error::error_body;

pub(crate) async fn token(State(services): State<Services>, request: Request) -> Response {
    let (parts, _) = request.into_parts();
    let query = parts.uri.query().unwrap_or_default();
    let params: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    let raw_scopes = params.iter().filter(|(k, _)| k == "scope").map(|(_, v)| v.as_str());
    let scopes = match berth_auth::parse_scopes(raw_scopes) {
        Ok(s) => s,
        Err(e) => return error_body(StatusCode::BAD_REQUEST, "INVALID_SCOPE", &e.to_string()),
    };
    let caller = match auth::caller(&services.access, &parts.headers, &parts.extensions).await {
        Ok(c) => c,
        Err(e) => {
            // A failed login, recorded under the name it tried.
            if let Ok(Some(berth_services::access::Credentials::Basic { username, .. })) =
                auth::credentials(&parts.headers)
            {
                let client_address = auth::client_address(&parts.extensions);
                services.audit.record(AuditEvent::login(username, client_address, false)).await;
            }
            let mut resp = e.into_response();
            auth::add_challenge(&mut resp, &auth::realm(&parts.headers, &parts.uri), None);
            return resp;
        }
    };
    // `docker login` asks for a token with no scope: that is the sign-in.
    if scopes.is_empty() && !matches!(caller.principal, berth_services::access::Principal::Anonymous) {
        let event = AuditEvent::login(caller.principal.name().to_owned(), caller.client_address.clone(), true);
        services.audit.record(event).await;
    }
    match services.access.issue_token(&caller, &scopes).await {
        Ok(issued) => {
            let body = json!({
                "token": issued.token,
                "access_token": issued.token,
                "expires_in": issued.expires_in,
                "issued_at": berth_core::time::rfc3339(issued.issued_at as i64),
            });
            axum::Json(body).into_response()
        }
        Err(e) => crate::error::ApiError::from(e).into_response(),
    }
}

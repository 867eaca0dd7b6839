//! `GET /service/token`: Basic credentials or none, scopes in the query;
//! `offline_token=true` also returns a refresh token to signed-in callers.

use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use berth_services::access::Principal;
use berth_services::Services;
use http::StatusCode;

use crate::error::{error_body, ApiError};
use crate::{auth, realm};

pub(crate) async fn get(State(services): State<Services>, request: Request) -> Response {
    let (parts, _) = request.into_parts();
    let realm = match realm::token_realm(&parts.headers, &parts.uri) {
        Ok(realm) => realm,
        Err(e) => return e.into_response(),
    };
    let query = parts.uri.query().unwrap_or_default();
    let params: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    let param = |key: &str| params.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
    let raw_scopes = params.iter().filter(|(k, _)| k == "scope").map(|(_, v)| v.as_str());
    let scopes = match berth_auth::parse_scopes(raw_scopes) {
        Ok(s) => s,
        Err(e) => return error_body(StatusCode::BAD_REQUEST, "INVALID_SCOPE", &e.to_string()),
    };
    let client_address = auth::client_address(&parts.extensions);
    let challenged = |e: ApiError| {
        let mut resp = e.into_response();
        auth::add_challenge(&mut resp, &realm, None);
        resp
    };
    let credentials = match auth::credentials(&parts.headers) {
        Ok(c) => c,
        Err(e) => return challenged(e),
    };
    let caller = match super::authenticate(&services, credentials, &client_address).await {
        Ok(c) => c,
        Err(e) => return challenged(e.into()),
    };
    super::record_sign_in(&services, &caller, &scopes).await;
    let signed_in = !matches!(caller.principal, Principal::Anonymous);
    let refresh_token = match param("offline_token") {
        Some("true") if signed_in => match services.access.issue_refresh_token(&caller).await {
            Ok(t) => Some(t),
            Err(e) => return ApiError::from(e).into_response(),
        },
        _ => None,
    };
    match super::respond(&services, &caller, &scopes, refresh_token).await {
        Ok(resp) => resp,
        Err(e) => ApiError::from(e).into_response(),
    }
}

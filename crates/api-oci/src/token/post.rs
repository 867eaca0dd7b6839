//! `POST /service/token`: the OAuth2 token request (RFC 6749 §4.3 and §6)
//! as Docker's token specification and containerd use it. A form body with
//! `grant_type=password` (`username`, `password`) or
//! `grant_type=refresh_token` (`refresh_token`), plus `scope` (several
//! separated by spaces), `service`, `client_id` and, for a refresh token
//! with the password grant, `access_type=offline`.

use axum::body::to_bytes;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use berth_core::Error;
use berth_services::access::Credentials;
use berth_services::Services;
use http::StatusCode;
use serde_json::json;

use crate::auth;

/// Token requests are a few short fields; anything larger is refused unread.
const MAX_FORM_BYTES: usize = 16 * 1024;
/// A form that has not arrived by then never will: the connection is
/// answered and freed, as for request headers.
const FORM_DEADLINE: std::time::Duration = std::time::Duration::from_secs(30);

/// An OAuth2 error response (RFC 6749 §5.2).
struct OAuthError {
    status: StatusCode,
    code: &'static str,
    description: String,
}

fn oauth_error(status: StatusCode, code: &'static str, description: impl Into<String>) -> OAuthError {
    OAuthError { status, code, description: description.into() }
}

impl From<Error> for OAuthError {
    fn from(e: Error) -> Self {
        match e {
            Error::Unauthorized(m) => oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", m),
            Error::TooManyRequests(m) => oauth_error(StatusCode::TOO_MANY_REQUESTS, "slow_down", m),
            Error::Internal(detail) => {
                let id = uuid::Uuid::new_v4();
                tracing::error!(request_error_id = %id, %detail, "token request failed");
                let m = format!("internal server error; reference {id} in the server log");
                oauth_error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", m)
            }
            e => oauth_error(StatusCode::BAD_REQUEST, "invalid_request", e.to_string()),
        }
    }
}

impl IntoResponse for OAuthError {
    /// RFC 6749's `error` and `error_description`, plus the registry's
    /// `errors` list: Docker reads only the latter, and without it shows
    /// "no error details found" instead of the reason.
    fn into_response(self) -> Response {
        let registry_code = match self.code {
            "invalid_grant" => "UNAUTHORIZED",
            "slow_down" => "TOOMANYREQUESTS",
            "server_error" => "UNKNOWN",
            _ => "UNSUPPORTED",
        };
        let body = json!({
            "error": self.code,
            "error_description": self.description,
            "errors": [{ "code": registry_code, "message": self.description, "detail": null }],
        });
        (self.status, axum::Json(body)).into_response()
    }
}

/// The fields of the form; repeated fields keep their first value.
struct Form(Vec<(String, String)>);

impl Form {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    fn require(&self, key: &str) -> Result<&str, OAuthError> {
        self.get(key).filter(|v| !v.is_empty()).ok_or_else(|| {
            oauth_error(StatusCode::BAD_REQUEST, "invalid_request", format!("the form field {key} is required"))
        })
    }
}

pub(crate) async fn post(State(services): State<Services>, request: Request) -> Response {
    match token_request(&services, request).await {
        Ok(resp) => resp,
        Err(e) => e.into_response(),
    }
}

async fn token_request(services: &Services, request: Request) -> Result<Response, OAuthError> {
    let (parts, body) = request.into_parts();
    let form_type = parts.headers.get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if !form_type.trim_start().starts_with("application/x-www-form-urlencoded") {
        let m = "send the token request as application/x-www-form-urlencoded";
        return Err(oauth_error(StatusCode::BAD_REQUEST, "invalid_request", m));
    }
    let read = tokio::time::timeout(FORM_DEADLINE, to_bytes(body, MAX_FORM_BYTES)).await.map_err(|_| {
        oauth_error(
            StatusCode::REQUEST_TIMEOUT,
            "invalid_request",
            "the token request did not arrive within 30 seconds",
        )
    })?;
    let bytes = read.map_err(|_| {
        oauth_error(StatusCode::PAYLOAD_TOO_LARGE, "invalid_request", "the token request is larger than 16 KiB")
    })?;
    let form = Form(form_urlencoded::parse(&bytes).into_owned().collect());
    let scopes = berth_auth::parse_scopes(form.get("scope").unwrap_or_default().split(' ').filter(|s| !s.is_empty()))
        .map_err(|e| oauth_error(StatusCode::BAD_REQUEST, "invalid_scope", e.to_string()))?;
    let client_address = auth::client_address(&parts.extensions);
    let (caller, refresh_token) = match form.require("grant_type")? {
        "password" => {
            let username = form.require("username")?.to_owned();
            let password = form.get("password").unwrap_or_default().to_owned();
            let credentials = Credentials::Basic { username, password };
            let caller = super::authenticate(services, Some(credentials), &client_address).await?;
            let refresh = match form.get("access_type") {
                Some("offline") => Some(services.access.issue_refresh_token(&caller).await?),
                _ => None,
            };
            (caller, refresh)
        }
        "refresh_token" => {
            let token = form.require("refresh_token")?;
            let caller = services.access.redeem_refresh_token(token, &client_address).await?;
            (caller, Some(token.to_owned()))
        }
        other => {
            let m = format!("grant_type {other:?} is not supported; use password or refresh_token");
            return Err(oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type", m));
        }
    };
    super::record_sign_in(services, &caller, &scopes).await;
    Ok(super::respond(services, &caller, &scopes, refresh_token).await?)
}

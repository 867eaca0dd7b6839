//! `/ping`, `/health`, `/systeminfo`.

use axum::extract::State;
use axum::response::IntoResponse;
use axum::Json;
use berth_services::settings::{AuthMode, ProjectCreation};
use berth_services::Services;
use serde_json::json;

use crate::error::ApiResult;

pub(crate) async fn ping() -> &'static str {
    "Pong"
}

/// Healthy when every component is; 503 naming the failing ones otherwise.
pub(crate) async fn health(State(s): State<Services>) -> impl IntoResponse {
    let components = s.health().await;
    let healthy = components.iter().all(|c| c.problem.is_none());
    let listed: Vec<_> = components
        .iter()
        .map(|c| match &c.problem {
            None => json!({ "name": c.name, "status": "healthy" }),
            Some(problem) => json!({ "name": c.name, "status": "unhealthy", "error": problem }),
        })
        .collect();
    let status = if healthy { http::StatusCode::OK } else { http::StatusCode::SERVICE_UNAVAILABLE };
    let body = json!({ "status": if healthy { "healthy" } else { "unhealthy" }, "components": listed });
    (status, Json(body))
}

pub(crate) async fn systeminfo(State(s): State<Services>, headers: http::HeaderMap) -> ApiResult<impl IntoResponse> {
    let settings = s.settings.current().await?;
    let host = headers.get(http::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default();
    Ok(Json(json!({
        "auth_mode": match settings.auth_mode { AuthMode::DbAuth => "db_auth", AuthMode::LdapAuth => "ldap_auth" },
        "harbor_version": concat!("berth-", env!("CARGO_PKG_VERSION")),
        "registry_url": host,
        "external_url": format!("http://{host}"),
        "project_creation_restriction": match settings.project_creation_restriction {
            ProjectCreation::Everyone => "everyone",
            ProjectCreation::AdminOnly => "adminonly",
        },
        "self_registration": false,
        "has_ca_root": false,
        "read_only": false,
        "primary_auth_mode": false,
    })))
}

/// Berth's addition: start signing registry tokens with a new key. Tokens
/// signed with older keys stay valid until they expire.
pub(crate) async fn rotate_token_key(
    State(s): State<Services>,
    crate::caller::ApiCaller(caller): crate::caller::ApiCaller,
) -> ApiResult<http::StatusCode> {
    s.access.rotate_signing_key(&caller).await?;
    Ok(http::StatusCode::CREATED)
}

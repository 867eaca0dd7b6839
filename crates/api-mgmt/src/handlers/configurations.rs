//! `/configurations`: system settings (admins only).

use axum::extract::rejection::JsonRejection;
use axum::extract::State;
use axum::Json;
use berth_services::settings::SystemSettings;
use berth_services::Services;
use http::StatusCode;
use serde_json::{json, Map, Value};

use super::body;
use crate::caller::ApiCaller;
use crate::error::ApiResult;

/// Settings never returned, only written.
const WRITE_ONLY: [&str; 1] = ["ldap_search_password"];

/// Harbor's shape: each item as `{"value": ..., "editable": true}`.
fn settings_json(s: &SystemSettings) -> Value {
    let mut out = Map::new();
    if let Ok(Value::Object(items)) = serde_json::to_value(s) {
        for (k, v) in items {
            if !WRITE_ONLY.contains(&k.as_str()) {
                out.insert(k, json!({ "value": v, "editable": true }));
            }
        }
    }
    Value::Object(out)
}

pub(crate) async fn get(State(s): State<Services>, ApiCaller(_): ApiCaller) -> ApiResult<Json<Value>> {
    Ok(Json(settings_json(&*s.settings.current().await?)))
}

pub(crate) async fn update(
    State(s): State<Services>,
    ApiCaller(caller): ApiCaller,
    req: Result<Json<Map<String, Value>>, JsonRejection>,
) -> ApiResult<StatusCode> {
    let changes = body(req)?;
    s.settings.update(&caller, &changes).await?;
    Ok(StatusCode::OK)
}

/// `POST /ldap/ping`: tries the LDAP settings in the body (over the stored
/// ones) without saving them. Harbor names the timeout
/// `ldap_connection_timeout` here.
pub(crate) async fn ldap_ping(
    State(s): State<Services>,
    ApiCaller(_): ApiCaller,
    req: Result<Json<Map<String, Value>>, JsonRejection>,
) -> ApiResult<Json<Value>> {
    let mut changes = body(req)?;
    if let Some(timeout) = changes.remove("ldap_connection_timeout") {
        changes.insert("ldap_timeout".into(), timeout);
    }
    s.settings.ping_ldap(&changes).await?;
    Ok(Json(json!({ "success": true })))
}

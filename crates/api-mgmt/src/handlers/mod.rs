//! Handlers: parse, call one service, shape Harbor's JSON.

pub(crate) mod audit;
pub(crate) mod configurations;
pub(crate) mod members;
pub(crate) mod openapi;
pub(crate) mod projects;
pub(crate) mod repositories;
pub(crate) mod robots;
pub(crate) mod system;
pub(crate) mod users;

use axum::extract::rejection::JsonRejection;
use axum::Json;
use serde::de::DeserializeOwned;

use crate::error::{bad_request, ApiResult};

/// A JSON body, or a 400 that says what is wrong with it.
pub(crate) fn body<T: DeserializeOwned>(parsed: Result<Json<T>, JsonRejection>) -> ApiResult<T> {
    parsed.map(|Json(v)| v).map_err(|e| bad_request(format!("invalid request body: {}", e.body_text())))
}

/// Harbor writes times as RFC 3339.
pub(crate) fn time(unix: i64) -> String {
    berth_core::time::rfc3339(unix)
}

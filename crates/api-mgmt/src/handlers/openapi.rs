//! `/openapi.json`: the OpenAPI 3 description of this API, maintained by
//! hand next to the crate and checked against the route table by
//! `openapi_check`.

use axum::response::IntoResponse;

/// The document, as shipped with this build.
pub(crate) const DOCUMENT: &str = include_str!("../../openapi.json");

pub(crate) async fn document() -> impl IntoResponse {
    ([(http::header::CONTENT_TYPE, "application/json")], DOCUMENT)
}

//! The OCI Distribution API (`/v2/`): routing, request parsing and the
//! mapping of domain results to OCI responses. No decisions are made here.

mod error;
mod handlers;
mod headers;
mod route;

use axum::routing::any;
use axum::Router;
use berth_services::Registry;

pub use route::{Action, Route};

/// The `/v2/` routes, served from `registry`.
pub fn router(registry: Registry) -> Router {
    Router::new()
        .route("/v2", any(handlers::dispatch))
        .route("/v2/", any(handlers::dispatch))
        .route("/v2/{*rest}", any(handlers::dispatch))
        .with_state(registry)
}

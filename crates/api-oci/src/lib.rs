//! The OCI Distribution API (`/v2/`): routing, request parsing and the
//! mapping of domain results to OCI responses. No decisions are made here.

mod auth;
mod error;
mod handlers;
mod headers;
mod realm;
mod route;
mod token;

use axum::routing::{any, get};
use axum::Router;
use berth_services::Services;

pub use route::{Action, Route};

/// The `/v2/` routes and the token endpoint `/service/token`.
pub fn router(services: Services) -> Router {
    Router::new()
        .route("/v2", any(handlers::dispatch))
        .route("/v2/", any(handlers::dispatch))
        .route("/v2/{*rest}", any(handlers::dispatch))
        .route("/service/token", get(token::get).post(token::post))
        .with_state(services)
}

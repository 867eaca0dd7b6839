//! The OCI Distribution API (`/v2/`): routing, request parsing and the
//! mapping of domain results to OCI responses. No decisions are made here.

mod auth;
mod client;
mod error;
mod handlers;
mod headers;
mod realm;
mod route;
mod token;
mod transfer_limits;

use axum::middleware::from_fn_with_state;
use axum::routing::{any, get};
use axum::Router;
use berth_services::Services;

pub use route::{Action, Route};
pub use transfer_limits::TransferLimits;

/// The `/v2/` routes, with `transfers` limiting blob transfers, and the
/// token endpoint `/service/token`.
pub fn router(services: Services, transfers: TransferLimits) -> Router {
    Router::new()
        .route("/v2", any(handlers::dispatch))
        .route("/v2/", any(handlers::dispatch))
        .route("/v2/{*rest}", any(handlers::dispatch))
        .route_layer(from_fn_with_state(transfers, transfer_limits::limit))
        .route("/service/token", get(token::get).post(token::post))
        .with_state(services)
}

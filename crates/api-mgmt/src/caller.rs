//! The `Caller` extractor: Basic credentials from `Authorization`, checked
//! once per request. Registry tokens are refused here.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRef, FromRequestParts};
use berth_services::access::{Caller, Credentials, Surface};
use berth_services::Services;
use http::request::Parts;

use crate::error::ApiError;

/// The authenticated caller of a management request (possibly anonymous).
pub(crate) struct ApiCaller(pub(crate) Caller);

impl<S: Send + Sync> FromRequestParts<S> for ApiCaller
where
    Services: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let services = Services::from_ref(state);
        if let Some(c) = parts.extensions.get::<Caller>() {
            return Ok(ApiCaller(c.clone()));
        }
        let credentials = match parts.headers.get(http::header::AUTHORIZATION) {
            Some(v) => Some(Credentials::from_header(v.as_bytes())?),
            None => None,
        };
        let address =
            parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string()).unwrap_or_default();
        let caller = services.access.authenticate(credentials, &address, Surface::Management).await?;
        parts.extensions.insert(caller.clone());
        Ok(ApiCaller(caller))
    }
}

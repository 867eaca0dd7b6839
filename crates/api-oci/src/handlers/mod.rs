//! Request handlers: parse, call one registry operation, shape the reply.

mod blobs;
mod listing;
mod manifests;
mod uploads;

use axum::body::Body;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use berth_services::Registry;
use http::{HeaderMap, HeaderValue, Method, Uri};

use crate::error::ApiError;
use crate::headers::API_VERSION;
use crate::route::Route;

type Reply = Result<Response, ApiError>;

/// Everything a handler may need from the request.
pub(crate) struct Req {
    pub(crate) method: Method,
    pub(crate) uri: Uri,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Body,
}

impl Req {
    /// The value of query parameter `key`, percent-decoded.
    pub(crate) fn query(&self, key: &str) -> Option<String> {
        let q = self.uri.query()?;
        form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == key).map(|(_, v)| v.into_owned())
    }
}

/// The single entry point for `/v2/`.
pub(crate) async fn dispatch(
    State(registry): State<Registry>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let req = Req { method, uri, headers, body };
    let mut resp = route_request(&registry, req).await.unwrap_or_else(IntoResponse::into_response);
    resp.headers_mut().insert(API_VERSION, HeaderValue::from_static("registry/2.0"));
    resp
}

async fn route_request(registry: &Registry, req: Req) -> Reply {
    let rest = req.uri.path().strip_prefix("/v2").unwrap_or_default().trim_start_matches('/');
    let route = Route::parse(rest)?.ok_or(ApiError::NoRoute)?;
    if route.action(&req.method).is_none() {
        return Err(ApiError::MethodNotAllowed);
    }
    let r = registry;
    match (req.method.clone(), route) {
        (_, Route::Base) => Ok(axum::Json(serde_json::json!({})).into_response()),
        (_, Route::Catalog) => listing::catalog(r, req).await,
        (_, Route::Tags(name)) => listing::tags(r, req, name).await,
        (_, Route::Referrers(name, d)) => listing::referrers(r, req, name, d).await,
        (Method::PUT, Route::Manifest(name, reference)) => manifests::put(r, req, name, reference).await,
        (Method::DELETE, Route::Manifest(name, reference)) => manifests::delete(r, name, reference).await,
        (_, Route::Manifest(name, reference)) => manifests::get(r, req, name, reference).await,
        (Method::DELETE, Route::Blob(name, d)) => blobs::delete(r, name, d).await,
        (_, Route::Blob(name, d)) => blobs::get(r, req, name, d).await,
        (_, Route::UploadStart(name)) => uploads::start(r, req, name).await,
        (Method::GET, Route::Upload(name, id)) => uploads::status(r, name, id).await,
        (Method::PATCH, Route::Upload(name, id)) => uploads::patch(r, req, name, id).await,
        (Method::PUT, Route::Upload(name, id)) => uploads::finish(r, req, name, id).await,
        (_, Route::Upload(name, id)) => uploads::cancel(r, name, id).await,
    }
}

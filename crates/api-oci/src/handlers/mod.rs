//! Request handlers: parse, call one registry operation, shape the reply.

mod blobs;
mod listing;
mod manifests;
mod uploads;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use berth_core::Digest;
use berth_services::access::{Caller, RepoAction};
use berth_services::{Registry, Services};
use http::{HeaderMap, HeaderValue, Method, Uri};

use crate::error::ApiError;
use crate::headers::{API_VERSION, CONTENT_DIGEST};
use crate::route::{Action, Route};
use crate::{auth, realm};

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
pub(crate) async fn dispatch(State(services): State<Services>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let mut resp = match realm::token_realm(&parts.headers, &parts.uri) {
        Err(e) => e.into_response(),
        Ok(realm) => handle(&services, parts, body, &realm).await,
    };
    resp.headers_mut().insert(API_VERSION, HeaderValue::from_static("registry/2.0"));
    resp
}

/// Recognizes the route, identifies the caller and serves the request; a
/// 401 carries the challenge naming the scope this request needs.
async fn handle(services: &Services, parts: http::request::Parts, body: Body, realm: &str) -> Response {
    let req = Req { method: parts.method, uri: parts.uri, headers: parts.headers, body };
    let (route, action) = match recognize(&req) {
        Ok(recognized) => recognized,
        Err(e) => return e.into_response(),
    };
    let scope = auth::scope_for(&route, action);
    let mut resp = match auth::caller(&services.access, &req.headers, &parts.extensions).await {
        Err(e) => e.into_response(),
        Ok(caller) => serve(services, &caller, route, action, req).await,
    };
    auth::add_challenge(&mut resp, realm, scope.as_deref());
    resp
}

fn recognize(req: &Req) -> Result<(Route, Action), ApiError> {
    let route = Route::from_path(req.uri.path())?.ok_or(ApiError::NoRoute)?;
    let action = route.action(&req.method).ok_or(ApiError::MethodNotAllowed)?;
    Ok((route, action))
}

/// Authorizes, runs the handler, and audits manifest reads and writes.
async fn serve(services: &Services, caller: &Caller, route: Route, action: Action, req: Req) -> Response {
    let audited = match (&route, &req.method) {
        (Route::Manifest(name, reference), m) if m != Method::HEAD => Some((name.clone(), reference.clone())),
        _ => None,
    };
    let outcome = match auth::authorize(&services.access, caller, &route, action).await {
        Ok(()) => route_request(services, caller, route, req).await,
        Err(e) => Err(e),
    };
    let resp = outcome.unwrap_or_else(IntoResponse::into_response);
    if let Some((name, reference)) = audited {
        let repo_action = match action {
            Action::Push => RepoAction::Push,
            Action::Delete => RepoAction::Delete,
            _ => RepoAction::Pull,
        };
        let success = resp.status().is_success();
        let digest: Option<Digest> = resp.headers().get(CONTENT_DIGEST).and_then(|v| v.to_str().ok()?.parse().ok());
        let target = (&name, &reference);
        services.repositories.manifest_accessed(caller, target, repo_action, success, digest.as_ref()).await;
    }
    resp
}

async fn route_request(services: &Services, caller: &Caller, route: Route, req: Req) -> Reply {
    let r: &Registry = &services.registry;
    match (req.method.clone(), route) {
        (_, Route::Base) => Ok(axum::Json(serde_json::json!({})).into_response()),
        (_, Route::Catalog) => listing::catalog(r, req).await,
        (_, Route::Tags(name)) => listing::tags(r, req, name).await,
        (_, Route::Referrers(name, d)) => listing::referrers(r, req, name, d).await,
        (Method::PUT, Route::Manifest(name, reference)) => manifests::put(r, req, name, reference).await,
        (Method::DELETE, Route::Manifest(name, reference)) => manifests::delete(r, name, reference).await,
        (_, Route::Manifest(name, reference)) => manifests::get(r, req, name, reference).await,
        (m, Route::ImpossibleManifest(name, raw)) => manifests::impossible(&m, &name, &raw),
        (Method::DELETE, Route::Blob(name, d)) => blobs::delete(r, name, d).await,
        (_, Route::Blob(name, d)) => blobs::get(r, req, name, d).await,
        (_, Route::ImpossibleBlob(name, raw)) => blobs::impossible(&name, &raw),
        (_, Route::UploadStart(name)) => uploads::start(services, caller, req, name).await,
        (Method::GET, Route::Upload(name, id)) => uploads::status(r, name, id).await,
        (Method::PATCH, Route::Upload(name, id)) => uploads::patch(r, req, name, id).await,
        (Method::PUT, Route::Upload(name, id)) => uploads::finish(r, req, name, id).await,
        (_, Route::Upload(name, id)) => uploads::cancel(r, name, id).await,
    }
}

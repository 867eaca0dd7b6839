//! Blob uploads: `POST /v2/<name>/blobs/uploads/` and
//! `GET|PATCH|PUT|DELETE /v2/<name>/blobs/uploads/<id>`.

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use berth_core::{Digest, Error, RepoName};
use berth_services::access::{Caller, RepoAction};
use berth_services::{Registry, Services};
use http::{header, StatusCode};

use super::{Reply, Req};
use crate::error::ApiError;
use crate::headers::{self, value, CONTENT_DIGEST, UPLOAD_UUID};

fn upload_location(name: &RepoName, id: &str) -> String {
    format!("/v2/{name}/blobs/uploads/{id}")
}

/// `Range: 0-<last byte>`; `0-0` for an empty upload, as clients expect.
fn range_header(size: u64) -> String {
    format!("0-{}", size.saturating_sub(1))
}

/// 202/204/416 replies that tell the client where an upload stands.
fn upload_progress(status: StatusCode, name: &RepoName, id: &str, size: u64) -> Response {
    let resp = Response::builder()
        .status(status)
        .header(header::LOCATION, value(&upload_location(name, id)))
        .header(header::RANGE, value(&range_header(size)))
        .header(UPLOAD_UUID, value(id))
        .header(header::CONTENT_LENGTH, 0)
        .body(Body::empty());
    resp.unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

fn blob_created(name: &RepoName, digest: &Digest) -> Response {
    let resp = Response::builder()
        .status(StatusCode::CREATED)
        .header(header::LOCATION, value(&format!("/v2/{name}/blobs/{digest}")))
        .header(CONTENT_DIGEST, value(&digest.to_string()))
        .header(header::CONTENT_LENGTH, 0)
        .body(Body::empty());
    resp.unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

fn digest_param(req: &Req, key: &str) -> Result<Option<Digest>, ApiError> {
    Ok(req.query(key).map(|d| d.parse::<Digest>()).transpose()?)
}

/// Starts an upload, or mounts a blob from another repository when the
/// caller may pull from there. A mount that cannot happen (no `from`, no
/// read access, no such blob) falls back to an upload, as the spec allows.
pub(super) async fn start(services: &Services, caller: &Caller, req: Req, name: RepoName) -> Reply {
    let registry = &services.registry;
    if let Some(mount) = digest_param(&req, "mount")? {
        let from = req.query("from").map(|f| f.parse::<RepoName>()).transpose()?.map(RepoName::in_default_project);
        if let Some(from) = from {
            let readable = services.access.authorize_repository(caller, &from, RepoAction::Pull).await.is_ok();
            if readable && registry.mount_blob(&name, &mount, &from).await?.is_some() {
                return Ok(blob_created(&name, &mount));
            }
        }
    }
    if let Some(digest) = digest_param(&req, "digest")? {
        registry.upload_whole(&name, &digest, headers::body_stream(req.body)).await?;
        return Ok(blob_created(&name, &digest));
    }
    let id = registry.start_upload(&name).await?;
    Ok(upload_progress(StatusCode::ACCEPTED, &name, id.as_str(), 0))
}

pub(super) async fn status(registry: &Registry, name: RepoName, id: String) -> Reply {
    let size = registry.upload_status(&name, &id).await?;
    Ok(upload_progress(StatusCode::NO_CONTENT, &name, &id, size))
}

pub(super) async fn patch(registry: &Registry, req: Req, name: RepoName, id: String) -> Reply {
    let result = match headers::content_range(&req.headers) {
        Ok(range) => registry.append_upload(&name, &id, range.map(|r| r.start), headers::body_stream(req.body)).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(size) => Ok(upload_progress(StatusCode::ACCEPTED, &name, &id, size)),
        Err(Error::RangeInvalid { message, .. }) => {
            // Tell the client where the upload really ends so it can resume.
            let size = registry.upload_status(&name, &id).await?;
            let mut resp = ApiError::from(Error::RangeInvalid { message, upload_size: size }).into_response();
            let progress = upload_progress(StatusCode::RANGE_NOT_SATISFIABLE, &name, &id, size);
            for h in [header::LOCATION, header::RANGE, UPLOAD_UUID] {
                if let Some(v) = progress.headers().get(&h) {
                    resp.headers_mut().insert(h, v.clone());
                }
            }
            Ok(resp)
        }
        Err(e) => Err(e.into()),
    }
}

pub(super) async fn finish(registry: &Registry, req: Req, name: RepoName, id: String) -> Reply {
    let digest = digest_param(&req, "digest")?
        .ok_or_else(|| Error::DigestInvalid("finishing an upload needs ?digest=<algorithm:hex>".into()))?;
    let range = headers::content_range(&req.headers)?;
    let has_body = headers::content_length(&req.headers) != Some(0);
    let body = has_body.then(|| headers::body_stream(req.body));
    registry.finish_upload(&name, &id, &digest, body, range).await?;
    Ok(blob_created(&name, &digest))
}

pub(super) async fn cancel(registry: &Registry, name: RepoName, id: String) -> Reply {
    registry.cancel_upload(&name, &id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

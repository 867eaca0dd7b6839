//! `GET|HEAD|PUT|DELETE /v2/<name>/manifests/<reference>`

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use berth_core::{Error, Reference, RepoName};
use berth_services::registry::{Accept, MAX_MANIFEST_BYTES};
use berth_services::Registry;
use http::{header, Method, StatusCode};
use http_body_util::{BodyExt, LengthLimitError, Limited};

use super::{Reply, Req};
use crate::headers::{self, value, CONTENT_DIGEST, OCI_SUBJECT};

pub(super) async fn get(registry: &Registry, req: Req, name: RepoName, reference: Reference) -> Reply {
    let accept = Accept::parse(req.headers.get_all(header::ACCEPT).iter().filter_map(|v| v.to_str().ok()));
    let m = registry.get_manifest(&name, &reference, &accept).await?;
    let builder = Response::builder()
        .header(header::CONTENT_TYPE, value(&m.media_type))
        .header(CONTENT_DIGEST, value(&m.digest.to_string()))
        .header(header::ETAG, value(&format!("\"{}\"", m.digest)))
        .header(header::CONTENT_LENGTH, m.body.len());
    let body = if req.method == Method::HEAD { Body::empty() } else { Body::from(m.body.clone()) };
    Ok(builder.body(body).map_err(Error::internal)?)
}

/// A request for a manifest reference that is neither a tag nor a digest.
///
/// Nothing can be stored under it, so a read or a delete finds nothing:
/// 404 MANIFEST_UNKNOWN, which is also what CNCF distribution answers for
/// a digest-shaped reference it cannot parse (it looks it up as a tag). A
/// push is refused with why the reference is invalid: TAG_INVALID, or
/// DIGEST_INVALID for a malformed digest.
pub(super) fn impossible(method: &Method, name: &RepoName, raw: &str) -> Reply {
    let why = match raw.parse::<Reference>() {
        Err(e) => e,
        Ok(r) => Error::internal(format!("reference {r} parses but was routed as impossible")),
    };
    if *method == Method::PUT {
        return Err(why.into());
    }
    Err(Error::ManifestUnknown(format!("manifest unknown to repository {name}: {why}")).into())
}

pub(super) async fn put(registry: &Registry, req: Req, name: RepoName, reference: Reference) -> Reply {
    let too_large = || Error::ManifestTooLarge(format!("manifest exceeds the {MAX_MANIFEST_BYTES}-byte limit"));
    let content_type = headers::text(&req.headers, &header::CONTENT_TYPE).unwrap_or("").to_owned();
    if headers::content_length(&req.headers).is_some_and(|n| n > MAX_MANIFEST_BYTES as u64) {
        // A client waiting for `100 Continue` has not sent the body: refuse
        // at once. Reading the body would make the server send the 100.
        let expects_continue =
            headers::text(&req.headers, &header::EXPECT).is_some_and(|v| v.eq_ignore_ascii_case("100-continue"));
        if !expects_continue {
            drain(req.body).await;
        }
        return Err(too_large().into());
    }
    let mut body = req.body;
    let collected = Limited::new(&mut body, MAX_MANIFEST_BYTES).collect().await;
    let body = match collected {
        Ok(b) => b.to_bytes(),
        Err(e) if e.is::<LengthLimitError>() => {
            drain(body).await;
            return Err(too_large().into());
        }
        Err(e) => return Err(Error::ManifestInvalid(format!("could not read the manifest body: {e}")).into()),
    };
    let out = registry.put_manifest(&name, &reference, &content_type, body).await?;
    let mut builder = Response::builder()
        .status(StatusCode::CREATED)
        .header(header::LOCATION, value(&format!("/v2/{name}/manifests/{}", out.digest)))
        .header(CONTENT_DIGEST, value(&out.digest.to_string()))
        .header(header::CONTENT_LENGTH, 0);
    if let Some(subject) = out.subject {
        builder = builder.header(OCI_SUBJECT, value(&subject.to_string()));
    }
    Ok(builder.body(Body::empty()).map_err(Error::internal)?)
}

/// Reads and discards what is left of an oversized body (up to a bound), so
/// a client still writing it sees the error reply instead of a reset
/// connection. Past the bound the connection is simply closed.
async fn drain(body: Body) {
    const DRAIN_LIMIT: usize = 64 * 1024 * 1024;
    let mut stream = body.into_data_stream();
    let mut seen = 0usize;
    while let Some(Ok(chunk)) = futures::StreamExt::next(&mut stream).await {
        seen += chunk.len();
        if seen > DRAIN_LIMIT {
            break;
        }
    }
}

pub(super) async fn delete(registry: &Registry, name: RepoName, reference: Reference) -> Reply {
    registry.delete_manifest(&name, &reference).await?;
    Ok(StatusCode::ACCEPTED.into_response())
}

//! `GET|HEAD|DELETE /v2/<name>/blobs/<digest>`

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use berth_core::{Digest, Error, RepoName};
use berth_services::Registry;
use berth_storage::ByteRange;
use http::{header, Method, StatusCode};

use super::{Reply, Req};
use crate::headers::{self, value, RangeHeader, CONTENT_DIGEST};

pub(super) async fn get(registry: &Registry, req: Req, name: RepoName, digest: Digest) -> Reply {
    let range = match headers::range(&req.headers) {
        RangeHeader::Whole => None,
        RangeHeader::Range(r) => Some(r),
        RangeHeader::Malformed => {
            let size = registry.stat_blob(&name, &digest).await?;
            return Err(Error::RangeNotSatisfiable {
                message: "Range must be bytes=<start>-<end>, bytes=<start>- or bytes=-<suffix length>".into(),
                blob_size: size,
            }
            .into());
        }
    };
    let builder = Response::builder()
        .header(CONTENT_DIGEST, value(&digest.to_string()))
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::ETAG, value(&format!("\"{digest}\"")));
    if req.method == Method::HEAD {
        let size = registry.head_blob(&name, &digest).await?;
        let range = range.map(|r| r.resolve(size)).transpose()?;
        return respond(builder, size, range, Body::empty());
    }
    let blob = registry.get_blob(&name, &digest, range).await?;
    respond(builder, blob.size, blob.range, Body::from_stream(blob.stream))
}

/// Sets the length and, for a range, the partial-content status and range.
fn respond(mut builder: http::response::Builder, size: u64, range: Option<ByteRange>, body: Body) -> Reply {
    builder = builder.header(header::CONTENT_LENGTH, range.map_or(size, |r| r.len()));
    if let Some(r) = range {
        builder = builder
            .status(StatusCode::PARTIAL_CONTENT)
            .header(header::CONTENT_RANGE, value(&format!("bytes {}-{}/{size}", r.start, r.end)));
    }
    Ok(builder.body(body).map_err(berth_core::Error::internal)?)
}

/// A read or delete of a blob path whose last segment is not a digest
/// Berth accepts: no blob can exist there, so the answer is the one for any
/// blob the repository does not hold, 404 BLOB_UNKNOWN.
///
/// CNCF distribution answers 400 DIGEST_INVALID when the segment is shaped
/// like a digest (`algorithm:encoded`) and a bare 404 otherwise. The OCI
/// spec lists only 404 as the failure of a blob `GET`/`HEAD`, and defines
/// DIGEST_INVALID for digests given with content; so uploads and manifest
/// pushes keep 400 DIGEST_INVALID, as does the referrers API, where the
/// spec demands 400 for a digest of invalid syntax.
pub(super) fn impossible(name: &RepoName, raw: &str) -> Reply {
    let why = match raw.parse::<Digest>() {
        Err(e) => e.to_string(),
        Ok(d) => format!("digest {d} was routed as impossible"),
    };
    Err(Error::BlobUnknown(format!("blob unknown to repository {name}: {why}")).into())
}

pub(super) async fn delete(registry: &Registry, name: RepoName, digest: Digest) -> Reply {
    registry.delete_blob(&name, &digest).await?;
    Ok(StatusCode::ACCEPTED.into_response())
}

//! Tag lists, the catalog and referrers.

use axum::response::{IntoResponse, Response};
use berth_core::{Digest, Error, RepoName};
use berth_services::registry::{Page, PageResult, MAX_PAGE};
use berth_services::Registry;
use http::header;
use serde_json::json;

use super::{Reply, Req};
use crate::headers::{value, OCI_FILTERS_APPLIED};

/// Reads `n` and `last`. Any `n` up to `u32::MAX` is taken (pages hold at
/// most `MAX_PAGE` entries whatever it says); a larger one is refused rather
/// than wrapped or cut.
fn page(req: &Req) -> Result<Page, Error> {
    let n = match req.query("n") {
        None => None,
        Some(n) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => Some(n.parse::<u32>().map_err(|_| {
            Error::PaginationInvalid(format!(
                "n is too large: at most {} entries are returned per page, and n may be at most {}",
                MAX_PAGE,
                u32::MAX
            ))
        })?),
        Some(n) => {
            return Err(Error::PaginationInvalid(format!(
                "n must be a non-negative whole number, got {:?}",
                n.chars().take(40).collect::<String>()
            )))
        }
    };
    Ok(Page { n, last: req.query("last") })
}

/// The JSON reply, with a `Link` to the next page when there is one.
fn paged(body: serde_json::Value, result: &PageResult, path: &str) -> Response {
    let mut resp = axum::Json(body).into_response();
    if let Some(last) = &result.next_last {
        let last: String = form_urlencoded::byte_serialize(last.as_bytes()).collect();
        let link = format!("<{path}?n={}&last={last}>; rel=\"next\"", result.n);
        resp.headers_mut().insert(header::LINK, value(&link));
    }
    resp
}

pub(super) async fn tags(registry: &Registry, req: Req, name: RepoName) -> Reply {
    let result = registry.list_tags(&name, &page(&req)?).await?;
    let body = json!({ "name": name.as_str(), "tags": result.items });
    Ok(paged(body, &result, &format!("/v2/{name}/tags/list")))
}

pub(super) async fn catalog(registry: &Registry, req: Req) -> Reply {
    let result = registry.catalog(&page(&req)?).await?;
    let body = json!({ "repositories": result.items });
    Ok(paged(body, &result, "/v2/_catalog"))
}

pub(super) async fn referrers(registry: &Registry, req: Req, name: RepoName, subject: Digest) -> Reply {
    let artifact_type = req.query("artifactType").filter(|t| !t.is_empty());
    let index = registry.referrers(&name, &subject, artifact_type.as_deref()).await?;
    let mut resp = ([(header::CONTENT_TYPE, berth_core::media_type::OCI_INDEX)], index).into_response();
    if artifact_type.is_some() {
        resp.headers_mut().insert(OCI_FILTERS_APPLIED, value("artifactType"));
    }
    Ok(resp)
}

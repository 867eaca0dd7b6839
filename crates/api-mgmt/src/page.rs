//! Harbor's pagination: `page` (from 1) and `page_size` in, `X-Total-Count`
//! and `Link` out.

use axum::response::{IntoResponse, Response};
use berth_meta::{PageRequest, Paged};
use http::{HeaderValue, Uri};
use serde::Serialize;

use crate::error::{bad_request, ApiResult};

const DEFAULT_SIZE: u64 = 10;
const MAX_SIZE: u64 = 100;

/// The requested page.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pagination {
    pub(crate) page: u64,
    pub(crate) size: u64,
}

impl Pagination {
    pub(crate) fn from_query(q: &crate::query::Params) -> ApiResult<Pagination> {
        let number = |key: &str, default: u64| -> ApiResult<u64> {
            match q.get(key) {
                None => Ok(default),
                Some(v) => v.parse().map_err(|_| bad_request(format!("{key} must be a positive integer"))),
            }
        };
        let page = number("page", 1)?;
        let size = number("page_size", DEFAULT_SIZE)?;
        if page == 0 || size == 0 {
            return Err(bad_request("page and page_size start at 1"));
        }
        if size > MAX_SIZE {
            return Err(bad_request(format!("page_size must be at most {MAX_SIZE}")));
        }
        Ok(Pagination { page, size })
    }

    pub(crate) fn request(&self) -> PageRequest {
        PageRequest { offset: (self.page - 1).saturating_mul(self.size), limit: self.size as u32 }
    }
}

/// A JSON array of one page, with the total and links to its neighbours.
pub(crate) fn paged_response<T, U: Serialize>(
    uri: &Uri,
    p: Pagination,
    page: Paged<T>,
    f: impl Fn(T) -> U,
) -> Response {
    let total = page.total;
    let items: Vec<U> = page.items.into_iter().map(f).collect();
    let mut resp = axum::Json(items).into_response();
    resp.headers_mut().insert("x-total-count", HeaderValue::from(total));
    let link = |n: u64, rel: &str| {
        let mut params: Vec<(String, String)> = form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
            .into_owned()
            .filter(|(k, _)| k != "page" && k != "page_size")
            .collect();
        params.push(("page".into(), n.to_string()));
        params.push(("page_size".into(), p.size.to_string()));
        let query = form_urlencoded::Serializer::new(String::new()).extend_pairs(params).finish();
        format!("<{}?{query}>; rel=\"{rel}\"", uri.path())
    };
    let mut links = Vec::new();
    if p.page > 1 {
        links.push(link(p.page - 1, "prev"));
    }
    if p.page.saturating_mul(p.size) < total {
        links.push(link(p.page + 1, "next"));
    }
    if let Ok(v) = HeaderValue::from_str(&links.join(", ")) {
        if !links.is_empty() {
            resp.headers_mut().insert(http::header::LINK, v);
        }
    }
    resp
}

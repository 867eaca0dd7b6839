//! Harbor's pagination: `page` (from 1) and `page_size` in, `X-Total-Count`
//! and `Link` out.

use axum::response::{IntoResponse, Response};
use berth_meta::{PageRequest, Paged};
use http::{HeaderValue, Uri};
use serde::Serialize;

use crate::error::{bad_request, ApiResult};

const DEFAULT_SIZE: u64 = 10;
const MAX_SIZE: u64 = 100;
/// The last row a page may reach: the largest offset a database takes.
const MAX_END: u64 = i64::MAX as u64;

/// The requested page.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pagination {
    pub(crate) page: u64,
    pub(crate) size: u64,
}

impl Pagination {
    /// Reads `page` and `page_size`. The page must end within what a
    /// database offset can address (a signed 64-bit number): a larger one
    /// would wrap around, and SQLite reads a negative offset as none at all.
    pub(crate) fn from_query(q: &crate::query::Params) -> ApiResult<Pagination> {
        let number = |key: &str, default: u64| -> ApiResult<u64> {
            match q.get(key) {
                None => Ok(default),
                Some(v) if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) => {
                    v.parse().map_err(|_| bad_request(format!("{key} is too large")))
                }
                Some(_) => Err(bad_request(format!("{key} must be a positive integer"))),
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
        if page.checked_mul(size).is_none_or(|end| end > MAX_END) {
            return Err(bad_request(format!("page is too large: page * page_size must be at most {MAX_END}")));
        }
        Ok(Pagination { page, size })
    }

    pub(crate) fn request(&self) -> PageRequest {
        // Cannot overflow: `from_query` bounds page × size by MAX_END.
        PageRequest { offset: (self.page - 1) * self.size, limit: self.size as u32 }
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

#[cfg(test)]
mod tests {
    use super::*;
    use berth_core::Error;

    fn parse(query: &str) -> Result<PageRequest, String> {
        let uri: Uri = format!("/x?{query}").parse().unwrap();
        match Pagination::from_query(&crate::query::Params::from_uri(&uri)) {
            Ok(p) => Ok(p.request()),
            Err(crate::error::ApiError(Error::Invalid(m))) => Err(m),
            Err(e) => panic!("unexpected {e:?}"),
        }
    }

    #[test]
    fn pages_become_offsets() {
        assert_eq!(parse(""), Ok(PageRequest { offset: 0, limit: 10 }));
        assert_eq!(parse("page=3&page_size=100"), Ok(PageRequest { offset: 200, limit: 100 }));
        let last = i64::MAX as u64 / 100;
        assert_eq!(parse(&format!("page={last}&page_size=100")).unwrap().offset, (last - 1) * 100);
        assert_eq!(parse("page=922337203685477580").unwrap().offset, 9_223_372_036_854_775_790);
    }

    #[test]
    fn numbers_beyond_a_database_offset_are_refused() {
        assert_eq!(parse("page=18446744073709551616"), Err("page is too large".into()));
        assert_eq!(parse("page_size=18446744073709551616"), Err("page_size is too large".into()));
        for query in ["page=18446744073709551615", "page=9223372036854775807&page_size=2", "page=922337203685477581"] {
            let message = parse(query).unwrap_err();
            assert!(message.contains("page * page_size must be at most 9223372036854775807"), "{query}: {message}");
        }
        assert_eq!(parse("page=-1"), Err("page must be a positive integer".into()));
        assert_eq!(parse("page=+1"), Err("page must be a positive integer".into()));
        assert_eq!(parse("page=0"), Err("page and page_size start at 1".into()));
    }
}

//! Assertions on registry responses: statuses, OCI error bodies, headers.

use reqwest::Response;
use serde::Deserialize;
use serde_json::Value;

/// One entry of an OCI error body.
#[derive(Debug, Deserialize)]
pub struct OciError {
    pub code: String,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub detail: Value,
}

/// The OCI error body: `{"errors":[{"code","message","detail"}]}`.
#[derive(Debug, Deserialize)]
pub struct OciErrors {
    pub errors: Vec<OciError>,
}

/// A header value as a string, if present and valid UTF-8.
pub fn header(resp: &Response, name: &str) -> Option<String> {
    resp.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

/// The `Docker-Content-Digest` header, if present.
pub fn digest_header(resp: &Response) -> Option<String> {
    header(resp, "Docker-Content-Digest")
}

/// The status a response carries, as a number (for tables of expectations).
pub fn status(resp: &Response) -> u16 {
    resp.status().as_u16()
}

/// Panics unless `resp` has `status`; the message carries the body.
pub async fn expect_status(resp: Response, status: u16) -> Response {
    if resp.status().as_u16() != status {
        let (url, got) = (resp.url().clone(), resp.status());
        let body = resp.text().await.unwrap_or_default();
        panic!("{url}: expected {status}, got {got}; body: {body}");
    }
    resp
}

/// The numeric id at the end of a 201's `Location`, which must lie under
/// `prefix` (e.g. `/api/v2.0/projects/`).
pub fn location_id(resp: &Response, prefix: &str) -> i64 {
    let location = header(resp, "Location").expect("201 without Location");
    let id = location.strip_prefix(prefix).unwrap_or_else(|| panic!("Location {location} not under {prefix}"));
    id.parse().unwrap_or_else(|_| panic!("Location {location} does not end in an id"))
}

/// Asserts an error body with `status` and `code`; returns its message.
pub async fn error_message(resp: Response, status: u16, code: &str) -> String {
    expect_error(resp, &[status], &[code]).await.errors.remove(0).message
}

/// Panics unless `resp` has one of `statuses` and an OCI error body with one
/// of `codes`, each error carrying a code made of `A-Z` and `_` only.
pub async fn expect_error(resp: Response, statuses: &[u16], codes: &[&str]) -> OciErrors {
    let (url, status) = (resp.url().clone(), resp.status().as_u16());
    let body = resp.text().await.unwrap_or_default();
    assert!(statuses.contains(&status), "{url}: expected one of {statuses:?}, got {status}; body: {body}");
    let parsed: OciErrors = serde_json::from_str(&body)
        .unwrap_or_else(|e| panic!("{url}: error body is not an OCI error document ({e}): {body}"));
    assert!(!parsed.errors.is_empty(), "{url}: empty error list: {body}");
    for e in &parsed.errors {
        assert!(
            !e.code.is_empty() && e.code.bytes().all(|b| b.is_ascii_uppercase() || b == b'_'),
            "{url}: malformed error code {:?}",
            e.code
        );
    }
    assert!(
        parsed.errors.iter().any(|e| codes.contains(&e.code.as_str())),
        "{url}: expected an error code in {codes:?}; body: {body}"
    );
    parsed
}

/// The target of a `Link: <url>; rel="next"` header, if the response has one.
pub fn next_link(resp: &Response) -> Option<String> {
    let link = header(resp, "Link")?;
    assert!(link.contains("rel=\"next\""), "Link header without rel=\"next\": {link}");
    let start = link.find('<')? + 1;
    let end = link.find('>')?;
    Some(link[start..end].to_owned())
}

/// Asserts an oversized body was refused: 413, or 400 with a size-related
/// code. A server that answers before reading the body and closes makes
/// hyper report a failed body write instead; that is accepted too, since
/// nothing was stored either way (callers check).
pub async fn expect_too_large(result: reqwest::Result<Response>) {
    match result {
        Ok(resp) if status(&resp) == 413 => {}
        Ok(resp) => {
            expect_error(resp, &[400], &["MANIFEST_INVALID", "SIZE_INVALID"]).await;
        }
        Err(e) => assert!(e.is_request() && !e.is_connect() && !e.is_timeout(), "unexpected failure: {e:?}"),
    }
}

/// Parses an upload `Range: 0-<end>` header into the number of bytes stored.
///
/// `0-0` is ambiguous in the wild (Docker's registry sends it for an empty
/// upload); callers that know nothing was sent treat it as zero.
pub fn upload_offset(range: &str) -> u64 {
    let end = range.strip_prefix("0-").unwrap_or_else(|| panic!("Range {range:?} lacks the 0- prefix"));
    end.parse::<u64>().unwrap_or_else(|_| panic!("Range {range:?} is not 0-<end>")) + 1
}

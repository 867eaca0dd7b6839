//! Parsing the HTTP headers the registry protocol relies on.

use axum::body::Body;
use berth_core::{Error, Result};
use berth_services::registry::{ChunkRange, RangeRequest};
use berth_storage::ByteStream;
use futures::TryStreamExt;
use http::{HeaderMap, HeaderName, HeaderValue};

pub(crate) const API_VERSION: HeaderName = HeaderName::from_static("docker-distribution-api-version");
pub(crate) const CONTENT_DIGEST: HeaderName = HeaderName::from_static("docker-content-digest");
pub(crate) const UPLOAD_UUID: HeaderName = HeaderName::from_static("docker-upload-uuid");
pub(crate) const OCI_SUBJECT: HeaderName = HeaderName::from_static("oci-subject");
pub(crate) const OCI_FILTERS_APPLIED: HeaderName = HeaderName::from_static("oci-filters-applied");

/// A header value as text, if present and readable.
pub(crate) fn text<'a>(headers: &'a HeaderMap, name: &http::header::HeaderName) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// A header value from text the server produced itself.
pub(crate) fn value(s: &str) -> HeaderValue {
    HeaderValue::from_str(s).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// `Content-Length`, if the client sent one.
pub(crate) fn content_length(headers: &HeaderMap) -> Option<u64> {
    text(headers, &http::header::CONTENT_LENGTH).and_then(|v| v.trim().parse().ok())
}

/// The request body as a byte stream for storage.
pub(crate) fn body_stream(body: Body) -> ByteStream {
    Box::pin(body.into_data_stream().map_err(std::io::Error::other))
}

/// Outcome of reading a `Range` header on a blob GET.
pub(crate) enum RangeHeader {
    /// No usable range: send the whole blob (includes units other than
    /// bytes and multiple ranges, which a server may ignore).
    Whole,
    Range(RangeRequest),
    /// A `bytes=` range that cannot be parsed.
    Malformed,
}

/// Parses `Range: bytes=a-b | bytes=a- | bytes=-n`.
pub(crate) fn range(headers: &HeaderMap) -> RangeHeader {
    let Some(raw) = headers.get(http::header::RANGE) else { return RangeHeader::Whole };
    let Ok(raw) = raw.to_str() else { return RangeHeader::Malformed };
    let Some(spec) = raw.trim().strip_prefix("bytes=") else { return RangeHeader::Whole };
    if spec.contains(',') {
        return RangeHeader::Whole;
    }
    let Some((a, b)) = spec.trim().split_once('-') else { return RangeHeader::Malformed };
    let num = |s: &str| s.trim().parse::<u64>().ok();
    match (a.trim().is_empty(), b.trim().is_empty()) {
        (true, false) => num(b).map_or(RangeHeader::Malformed, |n| RangeHeader::Range(RangeRequest::Suffix(n))),
        (false, true) => {
            num(a).map_or(RangeHeader::Malformed, |s| RangeHeader::Range(RangeRequest::From { start: s, end: None }))
        }
        (false, false) => match (num(a), num(b)) {
            (Some(s), Some(e)) if e >= s => RangeHeader::Range(RangeRequest::From { start: s, end: Some(e) }),
            _ => RangeHeader::Malformed,
        },
        (true, true) => RangeHeader::Malformed,
    }
}

/// Parses an upload chunk's `Content-Range: <start>-<end>` (also with a
/// `bytes ` or `bytes=` prefix) into where it starts; checks it against
/// `Content-Length` when both are given.
pub(crate) fn content_range(headers: &HeaderMap) -> Result<Option<ChunkRange>> {
    let Some(raw) = headers.get(http::header::CONTENT_RANGE) else { return Ok(None) };
    let malformed = || Error::RangeInvalid {
        message: "Content-Range must look like <start>-<end>, e.g. 0-1023".into(),
        upload_size: 0,
    };
    let s = raw.to_str().map_err(|_| malformed())?.trim();
    let s = s.strip_prefix("bytes").map(|r| r.trim_start_matches(['=', ' '])).unwrap_or(s);
    let s = s.split('/').next().unwrap_or(s);
    let (a, b) = s.split_once('-').ok_or_else(malformed)?;
    let (start, end) = match (a.trim().parse::<u64>(), b.trim().parse::<u64>()) {
        (Ok(a), Ok(b)) if b >= a => (a, b),
        _ => return Err(malformed()),
    };
    if let Some(len) = content_length(headers) {
        // Compared as `end - start` so the largest offsets cannot overflow.
        if len.checked_sub(1) != Some(end - start) {
            return Err(Error::SizeInvalid(format!(
                "Content-Range {start}-{end} does not cover the {len} bytes given in Content-Length"
            )));
        }
    }
    Ok(Some(ChunkRange { start, end }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn parses_content_range() {
        assert_eq!(content_range(&headers(&[])).unwrap(), None);
        let ok = headers(&[("content-range", "10-19"), ("content-length", "10")]);
        assert_eq!(content_range(&ok).unwrap(), Some(ChunkRange { start: 10, end: 19 }));
        let prefixed = headers(&[("content-range", "bytes 5-9/*")]);
        assert_eq!(content_range(&prefixed).unwrap(), Some(ChunkRange { start: 5, end: 9 }));
        let huge = headers(&[("content-range", "0-18446744073709551615"), ("content-length", "0")]);
        assert!(matches!(content_range(&huge), Err(Error::SizeInvalid(_))));
        let mismatch = headers(&[("content-range", "0-9"), ("content-length", "5")]);
        assert!(matches!(content_range(&mismatch), Err(Error::SizeInvalid(_))));
        for bad in ["", "x", "9-0", "-5", "1-", "a-b"] {
            let h = headers(&[("content-range", bad)]);
            assert!(matches!(content_range(&h), Err(Error::RangeInvalid { .. })), "{bad:?} accepted");
        }
    }

    #[test]
    fn blob_range() {
        let r = |v: &str| range(&headers(&[("range", v)]));
        assert!(matches!(r("bytes=0-9"), RangeHeader::Range(RangeRequest::From { start: 0, end: Some(9) })));
        assert!(matches!(r("bytes=5-"), RangeHeader::Range(RangeRequest::From { start: 5, end: None })));
        assert!(matches!(r("bytes=-5"), RangeHeader::Range(RangeRequest::Suffix(5))));
        assert!(matches!(r("items=0-1"), RangeHeader::Whole));
        assert!(matches!(r("bytes=0-1,3-4"), RangeHeader::Whole));
        for bad in ["bytes=", "bytes=-", "bytes=a-b", "bytes=9-0", "bytes=0-99999999999999999999"] {
            assert!(matches!(r(bad), RangeHeader::Malformed), "{bad:?} accepted");
        }
    }
}

//! The OCI error table: each domain error becomes one status and one OCI
//! error code, here and nowhere else.

use axum::response::{IntoResponse, Response};
use berth_core::Error;
use http::{HeaderValue, StatusCode};
use serde_json::json;

use crate::transfer_limits::Refusal;

/// An error as the `/v2/` API reports it.
#[derive(Debug)]
pub(crate) enum ApiError {
    Domain(Error),
    /// The path has no route.
    NoRoute,
    /// The route does not answer this method.
    MethodNotAllowed,
    /// A blob transfer would exceed a limit on transfers in progress.
    TooManyTransfers(Refusal),
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError::Domain(e)
    }
}

fn status_and_code(e: &Error) -> (StatusCode, &'static str) {
    use Error::*;
    match e {
        NameInvalid(_) => (StatusCode::BAD_REQUEST, "NAME_INVALID"),
        NameUnknown(_) => (StatusCode::NOT_FOUND, "NAME_UNKNOWN"),
        TagInvalid(_) => (StatusCode::BAD_REQUEST, "TAG_INVALID"),
        DigestInvalid(_) => (StatusCode::BAD_REQUEST, "DIGEST_INVALID"),
        BlobUnknown(_) => (StatusCode::NOT_FOUND, "BLOB_UNKNOWN"),
        BlobUploadUnknown(_) => (StatusCode::NOT_FOUND, "BLOB_UPLOAD_UNKNOWN"),
        BlobUploadInvalid(_) => (StatusCode::BAD_REQUEST, "BLOB_UPLOAD_INVALID"),
        RangeInvalid { .. } | RangeNotSatisfiable { .. } => (StatusCode::RANGE_NOT_SATISFIABLE, "RANGE_INVALID"),
        SizeInvalid(_) => (StatusCode::BAD_REQUEST, "SIZE_INVALID"),
        ManifestInvalid(_) => (StatusCode::BAD_REQUEST, "MANIFEST_INVALID"),
        ManifestUnknown(_) => (StatusCode::NOT_FOUND, "MANIFEST_UNKNOWN"),
        ManifestBlobUnknown(_) => (StatusCode::BAD_REQUEST, "MANIFEST_BLOB_UNKNOWN"),
        PaginationInvalid(_) => (StatusCode::BAD_REQUEST, "PAGINATION_NUMBER_INVALID"),
        ManifestTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "MANIFEST_INVALID"),
        Unsupported(_) => (StatusCode::BAD_REQUEST, "UNSUPPORTED"),
        Unauthorized(_) => (StatusCode::UNAUTHORIZED, "UNAUTHORIZED"),
        Denied(_) => (StatusCode::FORBIDDEN, "DENIED"),
        TooManyRequests(_) => (StatusCode::TOO_MANY_REQUESTS, "TOOMANYREQUESTS"),
        NotFound(_) => (StatusCode::NOT_FOUND, "NOT_FOUND"),
        Conflict(_) => (StatusCode::CONFLICT, "UNSUPPORTED"),
        Invalid(_) => (StatusCode::BAD_REQUEST, "UNSUPPORTED"),
        PreconditionFailed(_) => (StatusCode::PRECONDITION_FAILED, "DENIED"),
        StorageFull(_) => (StatusCode::INSUFFICIENT_STORAGE, "DENIED"),
        Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "UNKNOWN"),
    }
}

/// An OCI error body with one error.
pub(crate) fn error_body(status: StatusCode, code: &str, message: &str) -> Response {
    let body = json!({ "errors": [{ "code": code, "message": message, "detail": null }] }).to_string();
    let mut resp = (status, body).into_response();
    resp.headers_mut().insert(http::header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::NoRoute => error_body(
                StatusCode::NOT_FOUND,
                "NOT_FOUND",
                "no such endpoint: the OCI distribution API has no route of that shape",
            ),
            ApiError::MethodNotAllowed => {
                error_body(StatusCode::METHOD_NOT_ALLOWED, "UNSUPPORTED", "this endpoint does not answer that method")
            }
            ApiError::TooManyTransfers(refusal) => {
                let mut resp = error_body(StatusCode::TOO_MANY_REQUESTS, "TOOMANYREQUESTS", &refusal.to_string());
                resp.headers_mut().insert(http::header::RETRY_AFTER, HeaderValue::from(refusal.retry_after()));
                resp
            }
            ApiError::Domain(Error::Internal(detail)) => {
                let id = uuid::Uuid::new_v4();
                tracing::error!(request_error_id = %id, %detail, "request failed");
                error_body(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "UNKNOWN",
                    &format!("internal server error; reference {id} in the server log"),
                )
            }
            ApiError::Domain(e) => {
                let (status, code) = status_and_code(&e);
                let mut resp = error_body(status, code, &e.to_string());
                if let Error::RangeNotSatisfiable { blob_size, .. } = e {
                    if let Ok(v) = HeaderValue::from_str(&format!("bytes */{blob_size}")) {
                        resp.headers_mut().insert(http::header::CONTENT_RANGE, v);
                    }
                }
                resp
            }
        }
    }
}

//! Harbor's error body (`{"errors":[{"code","message"}]}`) for every
//! domain error, mapped here and nowhere else.

use axum::response::{IntoResponse, Response};
use berth_core::Error;
use http::StatusCode;
use serde_json::json;

/// An error as the management API reports it.
#[derive(Debug)]
pub(crate) struct ApiError(pub(crate) Error);

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        ApiError(e)
    }
}

pub(crate) type ApiResult<T> = Result<T, ApiError>;

/// A request the API could not read (bad JSON, bad query).
pub(crate) fn bad_request(message: impl Into<String>) -> ApiError {
    ApiError(Error::Invalid(message.into()))
}

fn status_and_code(e: &Error) -> (StatusCode, &'static str) {
    use Error::*;
    match e {
        Unauthorized(_) => (StatusCode::UNAUTHORIZED, "UNAUTHORIZED"),
        Denied(_) => (StatusCode::FORBIDDEN, "FORBIDDEN"),
        TooManyRequests(_) => (StatusCode::TOO_MANY_REQUESTS, "TOO_MANY_REQUESTS"),
        NotFound(_) | NameUnknown(_) | ManifestUnknown(_) | BlobUnknown(_) | BlobUploadUnknown(_) => {
            (StatusCode::NOT_FOUND, "NOT_FOUND")
        }
        Conflict(_) => (StatusCode::CONFLICT, "CONFLICT"),
        PreconditionFailed(_) => (StatusCode::PRECONDITION_FAILED, "PRECONDITION"),
        StorageFull(_) => (StatusCode::INSUFFICIENT_STORAGE, "INSUFFICIENT_STORAGE"),
        Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_SERVER_ERROR"),
        ManifestTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "BAD_REQUEST"),
        RangeInvalid { .. } | RangeNotSatisfiable { .. } => (StatusCode::RANGE_NOT_SATISFIABLE, "BAD_REQUEST"),
        NameInvalid(_)
        | TagInvalid(_)
        | DigestInvalid(_)
        | BlobUploadInvalid(_)
        | SizeInvalid(_)
        | ManifestInvalid(_)
        | ManifestBlobUnknown(_)
        | PaginationInvalid(_)
        | Unsupported(_)
        | Invalid(_) => (StatusCode::BAD_REQUEST, "BAD_REQUEST"),
    }
}

/// Harbor's error body with one error.
pub(crate) fn error_response(status: StatusCode, code: &str, message: &str) -> Response {
    (status, axum::Json(json!({ "errors": [{ "code": code, "message": message }] }))).into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = status_and_code(&self.0);
        if let Error::Internal(detail) = &self.0 {
            let id = uuid::Uuid::new_v4();
            tracing::error!(request_error_id = %id, %detail, "management request failed");
            return error_response(status, code, &format!("internal server error; reference {id} in the server log"));
        }
        error_response(status, code, &self.0.to_string())
    }
}

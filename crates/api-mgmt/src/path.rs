//! Path parameters whose parse errors come back in Harbor's error body
//! (axum's own rejection is plain text).

use axum::extract::{FromRequestParts, Path};
use http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::{bad_request, ApiError};

/// Like `axum::extract::Path`, answering 400 `BAD_REQUEST` in JSON.
pub(crate) struct ApiPath<T>(pub(crate) T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(v)) => Ok(ApiPath(v)),
            Err(e) => Err(bad_request(format!("invalid path: {}", e.body_text()))),
        }
    }
}

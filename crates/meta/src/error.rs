//! What a metadata operation can fail with.

pub type MetaResult<T> = Result<T, MetaError>;

/// Failures of a metadata backend. Absence is not an error: lookups return
/// `Option`; these are failures of the database itself.
#[derive(Debug, thiserror::Error)]
pub enum MetaError {
    #[error("database failure: {0}")]
    Database(String),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
}

impl From<sqlx::Error> for MetaError {
    fn from(e: sqlx::Error) -> Self {
        MetaError::Database(e.to_string())
    }
}

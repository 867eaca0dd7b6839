//! What a metadata operation can fail with.

pub type MetaResult<T> = Result<T, MetaError>;

/// Failures of a metadata backend, and writes it refused because what they
/// belong to is gone. Absence is not an error: lookups return `Option`.
#[derive(Debug, thiserror::Error)]
pub enum MetaError {
    #[error("database failure: {0}")]
    Database(String),
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    /// A repository was to be created in this project, which does not
    /// exist: it was deleted after the writer was let in. Nothing was written.
    #[error("project '{0}' does not exist")]
    ProjectMissing(String),
}

impl From<sqlx::Error> for MetaError {
    fn from(e: sqlx::Error) -> Self {
        MetaError::Database(e.to_string())
    }
}

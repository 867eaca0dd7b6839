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
    /// The disk holding the database is full. The transaction that met it
    /// was rolled back; writes work again once space is freed.
    #[error("database storage is full: {0}")]
    Full(String),
    /// A repository was to be created in this project, which does not
    /// exist: it was deleted after the writer was let in. Nothing was written.
    #[error("project '{0}' does not exist")]
    ProjectMissing(String),
}

impl From<sqlx::Error> for MetaError {
    fn from(e: sqlx::Error) -> Self {
        if is_full(&e) {
            MetaError::Full(e.to_string())
        } else {
            MetaError::Database(e.to_string())
        }
    }
}

/// SQLite's `SQLITE_FULL` (code 13): the database could not grow, or the
/// disk it is on is full.
fn is_full(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(io) => io.kind() == std::io::ErrorKind::StorageFull,
        e => primary_code(e) == Some(13),
    }
}

/// The primary result code of a database error (`SQLITE_BUSY` is 5,
/// `SQLITE_FULL` 13), whether SQLite reported it plain or extended.
pub(crate) fn primary_code(e: &sqlx::Error) -> Option<i32> {
    let code = e.as_database_error()?.code()?.parse::<i32>().ok()?;
    Some(code & 0xff)
}

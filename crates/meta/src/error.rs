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
    /// The disk holding the database is full. The transaction that met it
    /// was rolled back; writes work again once space is freed.
    #[error("database storage is full: {0}")]
    Full(String),
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
/// disk it is on is full; reported under the extended code as well.
fn is_full(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Database(db) => db.code().is_some_and(|c| c.parse::<i32>().is_ok_and(|c| c & 0xff == 13)),
        sqlx::Error::Io(io) => io.kind() == std::io::ErrorKind::StorageFull,
        _ => false,
    }
}

//! SQLite backend: the zero-setup default. One file, WAL mode.

mod artifacts;
mod audit;
#[cfg(test)]
mod busy_tests;
mod first_start;
mod manifest_refs;
mod projects;
mod refresh;
mod registry;
mod robots;
mod settings;
#[cfg(test)]
mod upgrade_tests;
mod users;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, Transaction};

use crate::MetaResult;

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");

/// Metadata stored in one SQLite database file.
#[derive(Clone)]
pub struct SqliteMeta {
    pool: SqlitePool,
}

impl SqliteMeta {
    /// Opens (creating if needed) the database at `path` and brings its
    /// schema up to date.
    pub async fn open(path: &Path) -> MetaResult<SqliteMeta> {
        let options = SqliteConnectOptions::from_str("sqlite://")?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a commit returns only once the write-ahead log is on
            // disk, so what the registry acknowledged survives power loss,
            // not only a crash of the process (which NORMAL would cover).
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .pragma("cache_size", "-4000");
        let pool_options = SqlitePoolOptions::new()
            .max_connections(4)
            .min_connections(1)
            .after_release(|conn, _| Box::pin(fit_for_reuse(conn)));
        let pool = connect(pool_options, options).await?;
        migrate(&pool).await?;
        Ok(SqliteMeta { pool })
    }

    /// Closes every connection, checkpointing the write-ahead log.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Whether a connection handed back to the pool may serve again.
///
/// A transaction dropped after an error is rolled back when the connection
/// next runs a command. When SQLite already rolled it back itself (it may,
/// on a full disk or an I/O error), that rollback fails and the connection
/// would still count itself inside a transaction: every later `BEGIN` on
/// it would fail, or worse, nest into a transaction that holds the write
/// lock. Such a connection is closed instead, and the pool opens a new one.
async fn fit_for_reuse(conn: &mut sqlx::SqliteConnection) -> Result<bool, sqlx::Error> {
    use sqlx::Connection;
    if !conn.is_in_transaction() {
        return Ok(true);
    }
    // Runs after the queued rollback, so the count is settled afterwards.
    if conn.ping().await.is_err() {
        return Ok(false);
    }
    Ok(!conn.is_in_transaction())
}

/// A LIKE pattern matching values that contain `needle` literally.
fn like_pattern(needle: Option<&str>) -> String {
    let mut p = String::from("%");
    for c in needle.unwrap_or_default().chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// The offset SQLite is given for `page`. SQLite takes a signed 64-bit
/// offset and reads a negative one as none at all, so an offset beyond it
/// means past the end rather than wrapping round to the first page.
fn sql_offset(page: crate::PageRequest) -> i64 {
    i64::try_from(page.offset).unwrap_or(i64::MAX)
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// Starts a transaction that writes. It takes SQLite's write lock at once,
/// waiting up to the busy timeout for it: a transaction that read first
/// would need the lock later, when SQLite can only refuse it ("database is
/// locked") if another writer has changed what was read meanwhile. Every
/// transaction that writes starts here. Dropped without commit, it rolls back.
async fn begin_write(pool: &SqlitePool) -> MetaResult<Transaction<'static, Sqlite>> {
    Ok(pool.begin_with("BEGIN IMMEDIATE").await?)
}

/// Opens the pool. Of servers creating one new database at the same moment,
/// all switch it to WAL mode, and SQLite refuses that switch with "database
/// is locked" at once instead of waiting the busy timeout; the refused one
/// tries again after a pause, for up to ten seconds, and finds the database
/// switched already.
async fn connect(pool: SqlitePoolOptions, options: SqliteConnectOptions) -> MetaResult<SqlitePool> {
    const PAUSE: Duration = Duration::from_millis(20);
    const PATIENCE: Duration = Duration::from_secs(10);
    let mut waited = Duration::ZERO;
    loop {
        match pool.clone().connect_with(options.clone()).await {
            Err(e) if is_busy(&e) && waited < PATIENCE => {
                tokio::time::sleep(PAUSE).await;
                waited += PAUSE;
            }
            opened => return Ok(opened?),
        }
    }
}

/// SQLITE_BUSY, with or without an extended code.
fn is_busy(e: &sqlx::Error) -> bool {
    crate::error::primary_code(e) == Some(5)
}

/// Brings the schema up to date holding the write lock throughout, so that
/// servers starting together on one new database apply each migration once:
/// the second waits, then finds nothing left to do.
async fn migrate(pool: &SqlitePool) -> MetaResult<()> {
    let mut tx = begin_write(pool).await?;
    MIGRATIONS.run(&mut *tx).await.map_err(|e| crate::MetaError::Database(e.to_string()))?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn passes_the_shared_suite() {
        let dir = tempfile::tempdir().unwrap();
        let meta = super::SqliteMeta::open(&dir.path().join("berth.db")).await.unwrap();
        crate::suite::run_all(&meta).await;
    }
}

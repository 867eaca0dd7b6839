//! Accounts in SQLite.

use async_trait::async_trait;
use sqlx::sqlite::{SqliteExecutor, SqliteRow};
use sqlx::Row;

use super::{now, sql_offset, SqliteMeta};
use crate::{
    AccountKind, MetaResult, NewUser, PageRequest, Paged, UserConflict, UserMeta, UserProfile, UserRecord, UserSource,
};

const COLUMNS: &str = "id, username, email, realname, comment, password_hash, source, sysadmin, disabled,
    credential_stamp, created_at, updated_at";

/// A fresh credential stamp: random, and below 2^53 so it stays exact as a
/// JSON number.
pub(super) const NEW_STAMP: &str = "abs(random() % 9007199254740991)";

fn user_from_row(r: &SqliteRow) -> MetaResult<UserRecord> {
    let source: String = r.try_get("source")?;
    Ok(UserRecord {
        id: r.try_get("id")?,
        username: r.try_get("username")?,
        email: r.try_get("email")?,
        realname: r.try_get("realname")?,
        comment: r.try_get("comment")?,
        password_hash: r.try_get("password_hash")?,
        source: if source == "ldap" { UserSource::Ldap } else { UserSource::Local },
        sysadmin: r.try_get("sysadmin")?,
        disabled: r.try_get("disabled")?,
        credential_stamp: r.try_get("credential_stamp")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// Which unique field a failed write collided with, if that is why it failed.
fn conflict(e: &sqlx::Error) -> Option<UserConflict> {
    let db = e.as_database_error()?;
    if !db.is_unique_violation() {
        return None;
    }
    Some(if db.message().contains("email") { UserConflict::Email } else { UserConflict::Username })
}

/// Creates an account, or names the unique field that is taken.
pub(super) async fn insert_user(conn: impl SqliteExecutor<'_>, u: &NewUser) -> MetaResult<Result<i64, UserConflict>> {
    let t = now();
    let done = sqlx::query(&format!(
        "INSERT INTO users (username, email, realname, comment, password_hash, source, sysadmin, credential_stamp,
         created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, {NEW_STAMP}, ?, ?)"
    ))
    .bind(&u.username)
    .bind(&u.email)
    .bind(&u.realname)
    .bind(&u.comment)
    .bind(&u.password_hash)
    .bind(u.source.as_str())
    .bind(u.sysadmin)
    .bind(t)
    .bind(t)
    .execute(conn)
    .await;
    match done {
        Ok(d) => Ok(Ok(d.last_insert_rowid())),
        Err(e) => match conflict(&e) {
            Some(c) => Ok(Err(c)),
            None => Err(e.into()),
        },
    }
}

#[async_trait]
impl UserMeta for SqliteMeta {
    async fn create_user(&self, u: &NewUser) -> MetaResult<Result<i64, UserConflict>> {
        insert_user(&self.pool, u).await
    }

    async fn user_by_id(&self, id: i64) -> MetaResult<Option<UserRecord>> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM users WHERE id = ?"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn user_by_name(&self, username: &str) -> MetaResult<Option<UserRecord>> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM users WHERE username = ?"))
            .bind(username)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn list_users(&self, name_contains: Option<&str>, page: PageRequest) -> MetaResult<Paged<UserRecord>> {
        // One read transaction: the total and the page come from the same snapshot.
        let mut tx = self.pool.begin().await?;
        let pattern = super::like_pattern(name_contains);
        let total: i64 = sqlx::query_scalar("SELECT count(*) FROM users WHERE username LIKE ? ESCAPE '\\'")
            .bind(&pattern)
            .fetch_one(&mut *tx)
            .await?;
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM users WHERE username LIKE ? ESCAPE '\\' ORDER BY username LIMIT ? OFFSET ?"
        ))
        .bind(&pattern)
        .bind(i64::from(page.limit))
        .bind(sql_offset(page))
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        let items = rows.iter().map(user_from_row).collect::<MetaResult<_>>()?;
        Ok(Paged { items, total: total as u64 })
    }

    async fn count_users(&self) -> MetaResult<u64> {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM users").fetch_one(&self.pool).await?;
        Ok(n as u64)
    }

    async fn update_user_profile(&self, id: i64, p: &UserProfile) -> MetaResult<Result<bool, UserConflict>> {
        let done = sqlx::query(
            "UPDATE users SET email = coalesce(?, email), realname = coalesce(?, realname),
             comment = coalesce(?, comment), updated_at = ? WHERE id = ?",
        )
        .bind(&p.email)
        .bind(&p.realname)
        .bind(&p.comment)
        .bind(now())
        .bind(id)
        .execute(&self.pool)
        .await;
        match done {
            Ok(d) => Ok(Ok(d.rows_affected() > 0)),
            Err(e) => match conflict(&e) {
                Some(c) => Ok(Err(c)),
                None => Err(e.into()),
            },
        }
    }

    async fn set_password_hash(&self, id: i64, hash: &str) -> MetaResult<bool> {
        self.update_user_credentials(id, "password_hash", hash.to_owned()).await
    }

    async fn set_sysadmin(&self, id: i64, sysadmin: bool) -> MetaResult<bool> {
        self.update_user_column(id, "sysadmin", sysadmin).await
    }

    async fn set_disabled(&self, id: i64, disabled: bool) -> MetaResult<bool> {
        self.update_user_credentials(id, "disabled", disabled).await
    }

    async fn delete_user(&self, id: i64) -> MetaResult<bool> {
        let mut tx = super::begin_write(&self.pool).await?;
        let done = sqlx::query("DELETE FROM users WHERE id = ?").bind(id).execute(&mut *tx).await?;
        super::refresh::delete_tokens_of(&mut tx, AccountKind::User, id).await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }
}

impl SqliteMeta {
    /// `column` is always a literal from this file, never user input.
    async fn update_user_column<T>(&self, id: i64, column: &'static str, value: T) -> MetaResult<bool>
    where
        T: for<'q> sqlx::Encode<'q, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite> + Send + 'static,
    {
        let sql = format!("UPDATE users SET {column} = ?, updated_at = ? WHERE id = ?");
        let done = sqlx::query(&sql).bind(value).bind(now()).bind(id).execute(&self.pool).await?;
        Ok(done.rows_affected() > 0)
    }

    /// Like `update_user_column`, renewing the credential stamp in the same write.
    async fn update_user_credentials<T>(&self, id: i64, column: &'static str, value: T) -> MetaResult<bool>
    where
        T: for<'q> sqlx::Encode<'q, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite> + Send + 'static,
    {
        let sql = format!("UPDATE users SET {column} = ?, credential_stamp = {NEW_STAMP}, updated_at = ? WHERE id = ?");
        let done = sqlx::query(&sql).bind(value).bind(now()).bind(id).execute(&self.pool).await?;
        Ok(done.rows_affected() > 0)
    }
}

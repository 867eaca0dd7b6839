//! Refresh tokens in SQLite.

use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, Sqlite, Transaction};

use super::SqliteMeta;
use crate::{AccountKind, MetaError, MetaResult, RefreshTokenMeta, RefreshTokenRecord};

const COLUMNS: &str = "token_hash, account_kind, account_id, stamp, created_at, expires_at";

fn token_from_row(r: &SqliteRow) -> MetaResult<RefreshTokenRecord> {
    let hash: Vec<u8> = r.try_get("token_hash")?;
    let kind: String = r.try_get("account_kind")?;
    Ok(RefreshTokenRecord {
        token_hash: hash.try_into().map_err(|_| MetaError::Corrupt("refresh token hash is not 32 bytes".into()))?,
        account_kind: AccountKind::parse(&kind)
            .ok_or_else(|| MetaError::Corrupt(format!("unknown account kind {kind:?}")))?,
        account_id: r.try_get("account_id")?,
        stamp: r.try_get("stamp")?,
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
    })
}

/// Revokes an account's tokens inside a caller's transaction (account deletion).
pub(super) async fn delete_tokens_of(
    tx: &mut Transaction<'_, Sqlite>,
    kind: AccountKind,
    account_id: i64,
) -> MetaResult<u64> {
    let done = sqlx::query("DELETE FROM refresh_tokens WHERE account_kind = ? AND account_id = ?")
        .bind(kind.as_str())
        .bind(account_id)
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected())
}

#[async_trait]
impl RefreshTokenMeta for SqliteMeta {
    async fn add_refresh_token(&self, t: &RefreshTokenRecord) -> MetaResult<()> {
        sqlx::query(&format!("INSERT INTO refresh_tokens ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)"))
            .bind(&t.token_hash[..])
            .bind(t.account_kind.as_str())
            .bind(t.account_id)
            .bind(t.stamp)
            .bind(t.created_at)
            .bind(t.expires_at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn use_refresh_token(
        &self,
        token_hash: &[u8; 32],
        now: i64,
        expires_at: i64,
    ) -> MetaResult<Option<RefreshTokenRecord>> {
        let row = sqlx::query(&format!(
            "UPDATE refresh_tokens SET expires_at = max(expires_at, ?) WHERE token_hash = ? AND expires_at > ?
             RETURNING {COLUMNS}"
        ))
        .bind(expires_at)
        .bind(&token_hash[..])
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(token_from_row).transpose()
    }

    async fn delete_refresh_token(&self, token_hash: &[u8; 32]) -> MetaResult<bool> {
        let done = sqlx::query("DELETE FROM refresh_tokens WHERE token_hash = ?")
            .bind(&token_hash[..])
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete_refresh_tokens_of(&self, kind: AccountKind, account_id: i64) -> MetaResult<u64> {
        let mut tx = super::begin_write(&self.pool).await?;
        let n = delete_tokens_of(&mut tx, kind, account_id).await?;
        tx.commit().await?;
        Ok(n)
    }

    async fn purge_refresh_tokens(&self, before: i64) -> MetaResult<u64> {
        let done =
            sqlx::query("DELETE FROM refresh_tokens WHERE expires_at < ?").bind(before).execute(&self.pool).await?;
        Ok(done.rows_affected())
    }
}

//! Settings and signing keys in SQLite.

use async_trait::async_trait;
use sqlx::Row;

use super::SqliteMeta;
use crate::{MetaResult, SettingsMeta, SigningKeyRecord};

#[async_trait]
impl SettingsMeta for SqliteMeta {
    async fn settings(&self) -> MetaResult<Vec<(String, String)>> {
        let rows = sqlx::query("SELECT key, value FROM settings ORDER BY key").fetch_all(&self.pool).await?;
        rows.iter().map(|r| Ok((r.try_get("key")?, r.try_get("value")?))).collect()
    }

    async fn put_settings(&self, pairs: &[(String, String)]) -> MetaResult<()> {
        let mut tx = super::begin_write(&self.pool).await?;
        for (k, v) in pairs {
            sqlx::query("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
                .bind(k)
                .bind(v)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn signing_keys(&self) -> MetaResult<Vec<SigningKeyRecord>> {
        let rows = sqlx::query("SELECT kid, secret, created_at FROM signing_keys ORDER BY id DESC")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(SigningKeyRecord {
                    kid: r.try_get("kid")?,
                    secret: r.try_get("secret")?,
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect()
    }

    async fn add_signing_key(&self, key: &SigningKeyRecord) -> MetaResult<()> {
        insert_signing_key(&self.pool, key).await
    }

    async fn delete_signing_key(&self, kid: &str) -> MetaResult<bool> {
        let done = sqlx::query("DELETE FROM signing_keys WHERE kid = ?").bind(kid).execute(&self.pool).await?;
        Ok(done.rows_affected() > 0)
    }

    async fn reclaim_free_space(&self) -> MetaResult<()> {
        // VACUUM writes every page anew; the checkpoint moves them from the
        // write-ahead log into the database file and empties the log.
        sqlx::query("VACUUM").execute(&self.pool).await?;
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&self.pool).await?;
        Ok(())
    }

    async fn prune_signing_keys(&self, before: i64) -> MetaResult<u64> {
        let done = sqlx::query(
            "DELETE FROM signing_keys WHERE created_at < ?
             AND id <> (SELECT max(id) FROM signing_keys)",
        )
        .bind(before)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }
}

pub(super) async fn insert_signing_key<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Sqlite>,
    key: &SigningKeyRecord,
) -> MetaResult<()> {
    sqlx::query("INSERT INTO signing_keys (kid, secret, created_at) VALUES (?, ?, ?)")
        .bind(&key.kid)
        .bind(&key.secret)
        .bind(key.created_at)
        .execute(db)
        .await?;
    Ok(())
}

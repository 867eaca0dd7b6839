//! Robot accounts in SQLite.

use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;
use sqlx::Row;

use super::users::NEW_STAMP;
use super::{now, sql_offset, SqliteMeta};
use crate::{AccountKind, MetaResult, PageRequest, Paged, RobotMeta, RobotRecord, RobotUpdate};

const COLUMNS: &str = "id, name, description, secret_hash, project_id, disabled, expires_at, permissions,
    credential_stamp, created_at, updated_at";

fn robot_from_row(r: &SqliteRow) -> MetaResult<RobotRecord> {
    Ok(RobotRecord {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        description: r.try_get("description")?,
        secret_hash: r.try_get("secret_hash")?,
        project_id: r.try_get("project_id")?,
        disabled: r.try_get("disabled")?,
        expires_at: r.try_get("expires_at")?,
        permissions: r.try_get("permissions")?,
        credential_stamp: r.try_get("credential_stamp")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

#[async_trait]
impl RobotMeta for SqliteMeta {
    async fn create_robot(&self, r: &RobotRecord) -> MetaResult<Option<i64>> {
        let t = now();
        let done = sqlx::query(&format!(
            "INSERT INTO robots (name, description, secret_hash, project_id, disabled, expires_at, permissions,
             credential_stamp, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, {NEW_STAMP}, ?, ?)
             ON CONFLICT (name) DO NOTHING"
        ))
        .bind(&r.name)
        .bind(&r.description)
        .bind(&r.secret_hash)
        .bind(r.project_id)
        .bind(r.disabled)
        .bind(r.expires_at)
        .bind(&r.permissions)
        .bind(t)
        .bind(t)
        .execute(&self.pool)
        .await?;
        Ok((done.rows_affected() > 0).then(|| done.last_insert_rowid()))
    }

    async fn robot_by_id(&self, id: i64) -> MetaResult<Option<RobotRecord>> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM robots WHERE id = ?"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(robot_from_row).transpose()
    }

    async fn robot_by_name(&self, name: &str) -> MetaResult<Option<RobotRecord>> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM robots WHERE name = ?"))
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(robot_from_row).transpose()
    }

    async fn list_robots(&self, project_id: Option<i64>, page: PageRequest) -> MetaResult<Paged<RobotRecord>> {
        // One read transaction: the total and the page come from the same snapshot.
        let mut tx = self.pool.begin().await?;
        // `project_id IS ?` matches NULL too, so "all" needs its own clause.
        let filter = if project_id.is_some() { "project_id = ?" } else { "? IS NULL" };
        let total: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM robots WHERE {filter}"))
            .bind(project_id)
            .fetch_one(&mut *tx)
            .await?;
        let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM robots WHERE {filter} ORDER BY name LIMIT ? OFFSET ?"))
            .bind(project_id)
            .bind(i64::from(page.limit))
            .bind(sql_offset(page))
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        let items = rows.iter().map(robot_from_row).collect::<MetaResult<_>>()?;
        Ok(Paged { items, total: total as u64 })
    }

    async fn update_robot(&self, id: i64, u: &RobotUpdate) -> MetaResult<bool> {
        let done = sqlx::query(&format!(
            "UPDATE robots SET description = ?, disabled = ?, expires_at = ?, permissions = ?,
             credential_stamp = {NEW_STAMP}, updated_at = ? WHERE id = ?"
        ))
        .bind(&u.description)
        .bind(u.disabled)
        .bind(u.expires_at)
        .bind(&u.permissions)
        .bind(now())
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn set_robot_secret(&self, id: i64, secret_hash: &str) -> MetaResult<bool> {
        let sql =
            format!("UPDATE robots SET secret_hash = ?, credential_stamp = {NEW_STAMP}, updated_at = ? WHERE id = ?");
        let done = sqlx::query(&sql).bind(secret_hash).bind(now()).bind(id).execute(&self.pool).await?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete_robot(&self, id: i64) -> MetaResult<bool> {
        let mut tx = super::begin_write(&self.pool).await?;
        let done = sqlx::query("DELETE FROM robots WHERE id = ?").bind(id).execute(&mut *tx).await?;
        super::refresh::delete_tokens_of(&mut tx, AccountKind::Robot, id).await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }
}

//! The audit log in SQLite.

use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite};

use super::{like_pattern, sql_offset, SqliteMeta};
use crate::{AuditEntry, AuditMeta, AuditQuery, MetaResult, PageRequest, Paged};

fn entry_from_row(r: &SqliteRow) -> MetaResult<AuditEntry> {
    Ok(AuditEntry {
        id: r.try_get("id")?,
        at: r.try_get("at")?,
        username: r.try_get("username")?,
        project: r.try_get("project")?,
        project_id: r.try_get("project_id")?,
        resource: r.try_get("resource")?,
        resource_type: r.try_get("resource_type")?,
        operation: r.try_get("operation")?,
        success: r.try_get("success")?,
        client_address: r.try_get("client_address")?,
    })
}

fn push_audit_filter<'a>(q: &mut QueryBuilder<'a, Sqlite>, f: &'a AuditQuery) {
    q.push(" WHERE 1 = 1");
    if let Some(u) = &f.username {
        q.push(" AND username = ").push_bind(u);
    }
    if let Some(p) = &f.project {
        q.push(" AND project = ").push_bind(p);
    }
    if let Some(id) = f.project_id {
        q.push(" AND project_id = ").push_bind(id);
    }
    if f.resource.is_some() {
        q.push(" AND resource LIKE ").push_bind(like_pattern(f.resource.as_deref())).push(" ESCAPE '\\'");
    }
    if let Some(t) = &f.resource_type {
        q.push(" AND resource_type = ").push_bind(t);
    }
    if let Some(o) = &f.operation {
        q.push(" AND operation = ").push_bind(o);
    }
    if let Some(from) = f.from {
        q.push(" AND at >= ").push_bind(from);
    }
    if let Some(to) = f.to {
        q.push(" AND at <= ").push_bind(to);
    }
}

#[async_trait]
impl AuditMeta for SqliteMeta {
    async fn append_audit(&self, entries: &[AuditEntry]) -> MetaResult<()> {
        let mut tx = super::begin_write(&self.pool).await?;
        for e in entries {
            sqlx::query(
                "INSERT INTO audit_log (at, username, project, project_id, resource, resource_type, operation, success,
                 client_address) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(e.at)
            .bind(&e.username)
            .bind(&e.project)
            .bind(e.project_id)
            .bind(&e.resource)
            .bind(&e.resource_type)
            .bind(&e.operation)
            .bind(e.success)
            .bind(&e.client_address)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn search_audit(&self, f: &AuditQuery, page: PageRequest) -> MetaResult<Paged<AuditEntry>> {
        // One read transaction: the total and the page come from the same snapshot.
        let mut tx = self.pool.begin().await?;
        let mut count = QueryBuilder::new("SELECT count(*) FROM audit_log");
        push_audit_filter(&mut count, f);
        let total: i64 = count.build_query_scalar().fetch_one(&mut *tx).await?;
        let mut list = QueryBuilder::new(
            "SELECT id, at, username, project, project_id, resource, resource_type, operation, success, client_address
             FROM audit_log",
        );
        push_audit_filter(&mut list, f);
        list.push(" ORDER BY at DESC, id DESC LIMIT ").push_bind(i64::from(page.limit));
        list.push(" OFFSET ").push_bind(sql_offset(page));
        let rows = list.build().fetch_all(&mut *tx).await?;
        tx.commit().await?;
        let items = rows.iter().map(entry_from_row).collect::<MetaResult<_>>()?;
        Ok(Paged { items, total: total as u64 })
    }

    async fn purge_audit(&self, before: i64) -> MetaResult<u64> {
        let done = sqlx::query("DELETE FROM audit_log WHERE at < ?").bind(before).execute(&self.pool).await?;
        Ok(done.rows_affected())
    }
}

//! Projects and their members in SQLite.

use async_trait::async_trait;
use sqlx::sqlite::{SqliteExecutor, SqliteRow};
use sqlx::{QueryBuilder, Row, Sqlite};

use super::{begin_write, like_pattern, now, sql_offset, SqliteMeta};
use crate::{
    MemberRecord, MetaResult, PageRequest, Paged, ProjectDeletion, ProjectFilter, ProjectMeta, ProjectOwner,
    ProjectRecord, ProjectSettings,
};

const SELECT_PROJECT: &str = "SELECT p.id, p.name, p.owner_id, u.username AS owner_name, p.public, p.content_trust,
    p.prevent_vulnerable, p.severity, p.auto_scan, p.created_at, p.updated_at
    FROM projects p LEFT JOIN users u ON u.id = p.owner_id";

fn project_from_row(r: &SqliteRow) -> MetaResult<ProjectRecord> {
    Ok(ProjectRecord {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        owner_id: r.try_get("owner_id")?,
        owner_name: r.try_get("owner_name")?,
        settings: ProjectSettings {
            public: r.try_get("public")?,
            content_trust: r.try_get("content_trust")?,
            prevent_vulnerable: r.try_get("prevent_vulnerable")?,
            severity: r.try_get("severity")?,
            auto_scan: r.try_get("auto_scan")?,
        },
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

const SELECT_MEMBER: &str = "SELECT m.id, m.project_id, m.user_id, u.username, m.role
    FROM project_members m JOIN users u ON u.id = m.user_id";

fn member_from_row(r: &SqliteRow) -> MetaResult<MemberRecord> {
    Ok(MemberRecord {
        id: r.try_get("id")?,
        project_id: r.try_get("project_id")?,
        user_id: r.try_get("user_id")?,
        username: r.try_get("username")?,
        role: r.try_get("role")?,
    })
}

/// Appends the WHERE clause of a project listing.
fn push_project_filter<'a>(q: &mut QueryBuilder<'a, Sqlite>, f: &'a ProjectFilter) {
    q.push(" WHERE p.name LIKE ").push_bind(like_pattern(f.name_contains.as_deref())).push(" ESCAPE '\\'");
    if let Some(public) = f.public {
        q.push(" AND p.public = ").push_bind(public);
    }
    if let Some(user) = f.visible_to {
        q.push(
            " AND (p.public = 1 OR EXISTS (SELECT 1 FROM project_members m WHERE m.project_id = p.id AND m.user_id = ",
        )
        .push_bind(user)
        .push("))");
    }
}

/// Creates a project; `None` if the name is taken.
pub(super) async fn insert_project(
    conn: impl SqliteExecutor<'_>,
    name: &str,
    owner: Option<i64>,
    s: &ProjectSettings,
) -> MetaResult<Option<i64>> {
    let t = now();
    let done = sqlx::query(
        // Numbered after the highest id ever used (migration 0007), so
        // a deleted project's id never names another one.
        "INSERT INTO projects (id, name, owner_id, public, content_trust, prevent_vulnerable, severity, auto_scan,
         created_at, updated_at)
         VALUES ((SELECT last + 1 FROM project_id_sequence), ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (name) DO NOTHING",
    )
    .bind(name)
    .bind(owner)
    .bind(s.public)
    .bind(s.content_trust)
    .bind(s.prevent_vulnerable)
    .bind(&s.severity)
    .bind(s.auto_scan)
    .bind(t)
    .bind(t)
    .execute(conn)
    .await?;
    Ok((done.rows_affected() > 0).then(|| done.last_insert_rowid()))
}

/// Adds a member; `None` if the user is one already.
pub(super) async fn insert_member(
    conn: impl SqliteExecutor<'_>,
    project_id: i64,
    user_id: i64,
    role: i64,
) -> MetaResult<Option<i64>> {
    let t = now();
    let done = sqlx::query(
        "INSERT INTO project_members (project_id, user_id, role, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (project_id, user_id) DO NOTHING",
    )
    .bind(project_id)
    .bind(user_id)
    .bind(role)
    .bind(t)
    .bind(t)
    .execute(conn)
    .await?;
    Ok((done.rows_affected() > 0).then(|| done.last_insert_rowid()))
}

#[async_trait]
impl ProjectMeta for SqliteMeta {
    async fn create_project(
        &self,
        name: &str,
        owner: Option<ProjectOwner>,
        s: &ProjectSettings,
    ) -> MetaResult<Option<i64>> {
        let mut tx = begin_write(&self.pool).await?;
        let Some(id) = insert_project(&mut *tx, name, owner.map(|o| o.user_id), s).await? else { return Ok(None) };
        if let Some(owner) = owner {
            insert_member(&mut *tx, id, owner.user_id, owner.role).await?;
        }
        tx.commit().await?;
        Ok(Some(id))
    }

    async fn project_by_name(&self, name: &str) -> MetaResult<Option<ProjectRecord>> {
        let row =
            sqlx::query(&format!("{SELECT_PROJECT} WHERE p.name = ?")).bind(name).fetch_optional(&self.pool).await?;
        row.as_ref().map(project_from_row).transpose()
    }

    async fn project_by_id(&self, id: i64) -> MetaResult<Option<ProjectRecord>> {
        let row = sqlx::query(&format!("{SELECT_PROJECT} WHERE p.id = ?")).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(project_from_row).transpose()
    }

    async fn list_projects(&self, f: &ProjectFilter, page: PageRequest) -> MetaResult<Paged<ProjectRecord>> {
        // One read transaction: the total and the page come from the same snapshot.
        let mut tx = self.pool.begin().await?;
        let mut count = QueryBuilder::new("SELECT count(*) FROM projects p");
        push_project_filter(&mut count, f);
        let total: i64 = count.build_query_scalar().fetch_one(&mut *tx).await?;
        let mut list = QueryBuilder::new(SELECT_PROJECT);
        push_project_filter(&mut list, f);
        list.push(" ORDER BY p.name LIMIT ").push_bind(i64::from(page.limit));
        list.push(" OFFSET ").push_bind(sql_offset(page));
        let rows = list.build().fetch_all(&mut *tx).await?;
        tx.commit().await?;
        let items = rows.iter().map(project_from_row).collect::<MetaResult<_>>()?;
        Ok(Paged { items, total: total as u64 })
    }

    async fn update_project_settings(&self, id: i64, s: &ProjectSettings) -> MetaResult<bool> {
        let done = sqlx::query(
            "UPDATE projects SET public = ?, content_trust = ?, prevent_vulnerable = ?, severity = ?, auto_scan = ?,
             updated_at = ? WHERE id = ?",
        )
        .bind(s.public)
        .bind(s.content_trust)
        .bind(s.prevent_vulnerable)
        .bind(&s.severity)
        .bind(s.auto_scan)
        .bind(now())
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete_project(&self, id: i64) -> MetaResult<ProjectDeletion> {
        // Counting and deleting under the write lock make one step: no
        // repository can be created in the project in between. The foreign
        // key from repositories would refuse the deletion anyway.
        let mut tx = begin_write(&self.pool).await?;
        let repositories: i64 = sqlx::query_scalar("SELECT count(*) FROM repositories WHERE project_id = ?")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        if repositories > 0 {
            return Ok(ProjectDeletion::HoldsRepositories(repositories as u64));
        }
        // The project's robots go with it (foreign key), and so do their refresh tokens.
        sqlx::query(
            "DELETE FROM refresh_tokens WHERE account_kind = 'robot'
             AND account_id IN (SELECT id FROM robots WHERE project_id = ?)",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let done = sqlx::query("DELETE FROM projects WHERE id = ?").bind(id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(if done.rows_affected() > 0 { ProjectDeletion::Deleted } else { ProjectDeletion::NotFound })
    }

    async fn count_project_repositories(&self, project: &str) -> MetaResult<u64> {
        // '0' sorts right after '/', so this range is every "<project>/..." name
        // and the unique index on name answers it.
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM repositories WHERE name > ? AND name < ?")
            .bind(format!("{project}/"))
            .bind(format!("{project}0"))
            .fetch_one(&self.pool)
            .await?;
        Ok(n as u64)
    }

    async fn add_member(&self, project_id: i64, user_id: i64, role: i64) -> MetaResult<Option<i64>> {
        insert_member(&self.pool, project_id, user_id, role).await
    }

    async fn member_role(&self, project: &str, user_id: i64) -> MetaResult<Option<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT m.role FROM project_members m JOIN projects p ON p.id = m.project_id
             WHERE p.name = ? AND m.user_id = ?",
        )
        .bind(project)
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await?)
    }

    async fn member(&self, project_id: i64, member_id: i64) -> MetaResult<Option<MemberRecord>> {
        let row = sqlx::query(&format!("{SELECT_MEMBER} WHERE m.project_id = ? AND m.id = ?"))
            .bind(project_id)
            .bind(member_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(member_from_row).transpose()
    }

    async fn list_members(
        &self,
        project_id: i64,
        name_contains: Option<&str>,
        page: PageRequest,
    ) -> MetaResult<Paged<MemberRecord>> {
        // One read transaction: the total and the page come from the same snapshot.
        let mut tx = self.pool.begin().await?;
        let pattern = like_pattern(name_contains);
        let total: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM project_members m JOIN users u ON u.id = m.user_id
             WHERE m.project_id = ? AND u.username LIKE ? ESCAPE '\\'",
        )
        .bind(project_id)
        .bind(&pattern)
        .fetch_one(&mut *tx)
        .await?;
        let rows = sqlx::query(&format!(
            "{SELECT_MEMBER} WHERE m.project_id = ? AND u.username LIKE ? ESCAPE '\\'
             ORDER BY u.username LIMIT ? OFFSET ?"
        ))
        .bind(project_id)
        .bind(&pattern)
        .bind(i64::from(page.limit))
        .bind(sql_offset(page))
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        let items = rows.iter().map(member_from_row).collect::<MetaResult<_>>()?;
        Ok(Paged { items, total: total as u64 })
    }

    async fn update_member_role(&self, project_id: i64, member_id: i64, role: i64) -> MetaResult<bool> {
        let done = sqlx::query("UPDATE project_members SET role = ?, updated_at = ? WHERE project_id = ? AND id = ?")
            .bind(role)
            .bind(now())
            .bind(project_id)
            .bind(member_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn remove_member(&self, project_id: i64, member_id: i64) -> MetaResult<bool> {
        let done = sqlx::query("DELETE FROM project_members WHERE project_id = ? AND id = ?")
            .bind(project_id)
            .bind(member_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }
}

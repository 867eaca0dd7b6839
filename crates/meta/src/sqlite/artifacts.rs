//! Repositories and artifacts for the management view, in SQLite.

use async_trait::async_trait;
use berth_core::{Digest, RepoName, Tag};
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite};

use super::registry::parse_digest;
use super::{begin_write, like_pattern, now, sql_offset, SqliteMeta};
use crate::{
    ArtifactMeta, ArtifactRecord, MetaResult, PageRequest, Paged, PullRecord, RepositoryRecord, TagCreation, TagRecord,
};

/// A manifest is an artifact unless another manifest in the repository
/// lists it as a child (the platform images of an index).
const TOP_LEVEL: &str = "NOT EXISTS (SELECT 1 FROM manifest_references c WHERE c.repository_id = m.repository_id
    AND c.child_digest = m.digest AND c.child_is_manifest = 1)";

fn select_repository() -> String {
    format!(
        "SELECT r.id, r.name, r.pull_count, r.created_at,
           (SELECT count(*) FROM manifests m WHERE m.repository_id = r.id AND {TOP_LEVEL}) AS artifact_count,
           coalesce((SELECT max(m.created_at) FROM manifests m WHERE m.repository_id = r.id), r.created_at) AS updated_at
         FROM repositories r"
    )
}

fn repository_from_row(r: &SqliteRow) -> MetaResult<RepositoryRecord> {
    Ok(RepositoryRecord {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        artifact_count: r.try_get::<i64, _>("artifact_count")? as u64,
        pull_count: r.try_get::<i64, _>("pull_count")? as u64,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

fn push_repository_filter<'a>(q: &mut QueryBuilder<'a, Sqlite>, project: Option<&'a str>, name: Option<&'a str>) {
    q.push(" WHERE r.name LIKE ").push_bind(like_pattern(name)).push(" ESCAPE '\\'");
    if let Some(p) = project {
        // '0' sorts right after '/': the range is every "<project>/..." name.
        q.push(" AND r.name > ").push_bind(format!("{p}/")).push(" AND r.name < ").push_bind(format!("{p}0"));
    }
}

/// Size of a manifest with its blobs and, one level down, its children's.
const ARTIFACT_SIZE: &str = "m.size
    + coalesce((SELECT sum(b.size) FROM manifest_references c JOIN blobs b ON b.digest = c.child_digest
        WHERE c.repository_id = m.repository_id AND c.manifest_digest = m.digest AND c.child_is_manifest = 0), 0)
    + coalesce((SELECT sum(k.size + coalesce((SELECT sum(b.size) FROM manifest_references g
            JOIN blobs b ON b.digest = g.child_digest
            WHERE g.repository_id = k.repository_id AND g.manifest_digest = k.digest AND g.child_is_manifest = 0), 0))
        FROM manifest_references c JOIN manifests k ON k.repository_id = c.repository_id AND k.digest = c.child_digest
        WHERE c.repository_id = m.repository_id AND c.manifest_digest = m.digest AND c.child_is_manifest = 1), 0)";

impl SqliteMeta {
    async fn complete_artifact(&self, r: &SqliteRow) -> MetaResult<ArtifactRecord> {
        let repository_id: i64 = r.try_get("repository_id")?;
        let digest: String = r.try_get("digest")?;
        let tags =
            sqlx::query("SELECT name, updated_at FROM tags WHERE repository_id = ? AND digest = ? ORDER BY name")
                .bind(repository_id)
                .bind(&digest)
                .fetch_all(&self.pool)
                .await?
                .iter()
                .map(|t| Ok(TagRecord { name: t.try_get("name")?, push_time: t.try_get("updated_at")? }))
                .collect::<MetaResult<_>>()?;
        let children: Vec<String> = sqlx::query_scalar(
            "SELECT child_digest FROM manifest_references WHERE repository_id = ? AND manifest_digest = ?
             AND child_is_manifest = 1 ORDER BY child_digest",
        )
        .bind(repository_id)
        .bind(&digest)
        .fetch_all(&self.pool)
        .await?;
        Ok(ArtifactRecord {
            repository_id,
            digest: parse_digest(&digest)?,
            media_type: r.try_get("media_type")?,
            artifact_type: r.try_get("artifact_type")?,
            size: r.try_get::<i64, _>("total_size")? as u64,
            push_time: r.try_get("created_at")?,
            pull_time: r.try_get("pull_time")?,
            tags,
            children: children.iter().map(|d| parse_digest(d)).collect::<MetaResult<_>>()?,
        })
    }
}

fn select_artifacts() -> String {
    format!(
        "SELECT m.repository_id, m.digest, m.media_type, m.artifact_type, m.created_at, m.pull_time,
           {ARTIFACT_SIZE} AS total_size
         FROM manifests m JOIN repositories r ON r.id = m.repository_id"
    )
}

#[async_trait]
impl ArtifactMeta for SqliteMeta {
    async fn list_repository_records(
        &self,
        project: Option<&str>,
        name: Option<&str>,
        page: PageRequest,
    ) -> MetaResult<Paged<RepositoryRecord>> {
        // One read transaction: the total and the page come from the same snapshot.
        let mut tx = self.pool.begin().await?;
        let mut count = QueryBuilder::new("SELECT count(*) FROM repositories r");
        push_repository_filter(&mut count, project, name);
        let total: i64 = count.build_query_scalar().fetch_one(&mut *tx).await?;
        let mut list = QueryBuilder::new(select_repository());
        push_repository_filter(&mut list, project, name);
        list.push(" ORDER BY r.name LIMIT ").push_bind(i64::from(page.limit));
        list.push(" OFFSET ").push_bind(sql_offset(page));
        let rows = list.build().fetch_all(&mut *tx).await?;
        tx.commit().await?;
        let items = rows.iter().map(repository_from_row).collect::<MetaResult<_>>()?;
        Ok(Paged { items, total: total as u64 })
    }

    async fn repository_record(&self, repo: &RepoName) -> MetaResult<Option<RepositoryRecord>> {
        let row = sqlx::query(&format!("{} WHERE r.name = ?", select_repository()))
            .bind(repo.as_str())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(repository_from_row).transpose()
    }

    async fn delete_repository(&self, repo: &RepoName) -> MetaResult<bool> {
        let mut tx = begin_write(&self.pool).await?;
        let id: Option<i64> = sqlx::query_scalar("SELECT id FROM repositories WHERE name = ?")
            .bind(repo.as_str())
            .fetch_optional(&mut *tx)
            .await?;
        let Some(id) = id else { return Ok(false) };
        // Tags and references go first: they point at manifests.
        for table in ["tags", "manifest_references", "manifests", "repository_blobs"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE repository_id = ?")).bind(id).execute(&mut *tx).await?;
        }
        sqlx::query("DELETE FROM repositories WHERE id = ?").bind(id).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn list_artifacts(&self, repo: &RepoName, page: PageRequest) -> MetaResult<Paged<ArtifactRecord>> {
        // One read transaction: the total and the page come from the same snapshot.
        let mut tx = self.pool.begin().await?;
        let total: i64 = sqlx::query_scalar(&format!(
            "SELECT count(*) FROM manifests m JOIN repositories r ON r.id = m.repository_id
             WHERE r.name = ? AND {TOP_LEVEL}"
        ))
        .bind(repo.as_str())
        .fetch_one(&mut *tx)
        .await?;
        let rows = sqlx::query(&format!(
            "{} WHERE r.name = ? AND {TOP_LEVEL} ORDER BY m.created_at DESC, m.digest LIMIT ? OFFSET ?",
            select_artifacts()
        ))
        .bind(repo.as_str())
        .bind(i64::from(page.limit))
        .bind(sql_offset(page))
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        let mut items = Vec::with_capacity(rows.len());
        for r in &rows {
            items.push(self.complete_artifact(r).await?);
        }
        Ok(Paged { items, total: total as u64 })
    }

    async fn artifact(&self, repo: &RepoName, digest: &Digest) -> MetaResult<Option<ArtifactRecord>> {
        let row = sqlx::query(&format!("{} WHERE r.name = ? AND m.digest = ?", select_artifacts()))
            .bind(repo.as_str())
            .bind(digest.to_string())
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(r) => Ok(Some(self.complete_artifact(&r).await?)),
            None => Ok(None),
        }
    }

    async fn create_tag(&self, repo: &RepoName, tag: &Tag, digest: &Digest) -> MetaResult<TagCreation> {
        let mut tx = begin_write(&self.pool).await?;
        let repo_id: Option<i64> = sqlx::query_scalar(
            "SELECT m.repository_id FROM manifests m JOIN repositories r ON r.id = m.repository_id
             WHERE r.name = ? AND m.digest = ?",
        )
        .bind(repo.as_str())
        .bind(digest.to_string())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(repo_id) = repo_id else { return Ok(TagCreation::NoManifest) };
        let done = sqlx::query(
            "INSERT INTO tags (repository_id, name, digest, updated_at) VALUES (?, ?, ?, ?)
             ON CONFLICT (repository_id, name) DO NOTHING",
        )
        .bind(repo_id)
        .bind(tag.as_str())
        .bind(digest.to_string())
        .bind(now())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(if done.rows_affected() > 0 { TagCreation::Created } else { TagCreation::Exists })
    }

    async fn untag(&self, repo: &RepoName, tag: &Tag, digest: &Digest) -> MetaResult<bool> {
        let done = sqlx::query(
            "DELETE FROM tags WHERE name = ? AND digest = ?
             AND repository_id = (SELECT id FROM repositories WHERE name = ?)",
        )
        .bind(tag.as_str())
        .bind(digest.to_string())
        .bind(repo.as_str())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn record_pulls(&self, pulls: &[PullRecord]) -> MetaResult<()> {
        let mut tx = begin_write(&self.pool).await?;
        for p in pulls {
            sqlx::query("UPDATE repositories SET pull_count = pull_count + ? WHERE name = ?")
                .bind(p.count as i64)
                .bind(p.repository.as_str())
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "UPDATE manifests SET pull_time = max(coalesce(pull_time, 0), ?)
                 WHERE digest = ? AND repository_id = (SELECT id FROM repositories WHERE name = ?)",
            )
            .bind(p.at)
            .bind(p.digest.to_string())
            .bind(p.repository.as_str())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

//! `RegistryMeta` on SQLite.

use async_trait::async_trait;
use berth_core::{Digest, RepoName, Tag};
use sqlx::{Row, SqliteConnection};

use super::{begin_write, manifest_refs, now, SqliteMeta};
use crate::{ManifestPut, ManifestRecord, MetaError, MetaResult, NewManifest, Referrer, RegistryMeta};

pub(super) fn parse_digest(s: &str) -> MetaResult<Digest> {
    s.parse().map_err(|_| MetaError::Corrupt(format!("stored digest {s:?} is invalid")))
}

/// The id of `repo`, created in its project if it is new. A single
/// statement: a project deleted by a concurrent transaction is either gone
/// before it runs (nothing is created) or still there, and then the
/// repository keeps it from being deleted.
async fn ensure_repository(conn: &mut SqliteConnection, repo: &RepoName) -> MetaResult<i64> {
    let id = sqlx::query_scalar(
        "INSERT INTO repositories (name, project_id, created_at) SELECT ?, p.id, ? FROM projects p WHERE p.name = ?
         ON CONFLICT (name) DO UPDATE SET name = excluded.name RETURNING id",
    )
    .bind(repo.as_str())
    .bind(now())
    .bind(repo.project())
    .fetch_optional(&mut *conn)
    .await?;
    id.ok_or_else(|| MetaError::ProjectMissing(repo.project().to_owned()))
}

#[async_trait]
impl RegistryMeta for SqliteMeta {
    async fn list_repositories(&self, after: Option<&str>, limit: u32) -> MetaResult<Vec<String>> {
        let rows = sqlx::query_scalar("SELECT name FROM repositories WHERE name > ? ORDER BY name LIMIT ?")
            .bind(after.unwrap_or(""))
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows)
    }

    async fn blob_size(&self, digest: &Digest) -> MetaResult<Option<u64>> {
        let size: Option<i64> = sqlx::query_scalar("SELECT size FROM blobs WHERE digest = ?")
            .bind(digest.to_string())
            .fetch_optional(&self.pool)
            .await?;
        Ok(size.map(|s| s as u64))
    }

    async fn linked_blob_size(&self, repo: &RepoName, digest: &Digest) -> MetaResult<Option<u64>> {
        let size: Option<i64> = sqlx::query_scalar(
            "SELECT b.size FROM repository_blobs rb
             JOIN repositories r ON r.id = rb.repository_id
             JOIN blobs b ON b.digest = rb.digest
             WHERE r.name = ? AND rb.digest = ?",
        )
        .bind(repo.as_str())
        .bind(digest.to_string())
        .fetch_optional(&self.pool)
        .await?;
        Ok(size.map(|s| s as u64))
    }

    async fn link_blob(&self, repo: &RepoName, digest: &Digest, size: u64) -> MetaResult<()> {
        let mut tx = begin_write(&self.pool).await?;
        let repo_id = ensure_repository(&mut tx, repo).await?;
        sqlx::query("INSERT INTO blobs (digest, size, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING")
            .bind(digest.to_string())
            .bind(size as i64)
            .bind(now())
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO repository_blobs (repository_id, digest, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
        )
        .bind(repo_id)
        .bind(digest.to_string())
        .bind(now())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn unlink_blob(&self, repo: &RepoName, digest: &Digest) -> MetaResult<bool> {
        let done = sqlx::query(
            "DELETE FROM repository_blobs WHERE digest = ?
             AND repository_id = (SELECT id FROM repositories WHERE name = ?)",
        )
        .bind(digest.to_string())
        .bind(repo.as_str())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn create_upload(&self, id: &str, repo: &RepoName) -> MetaResult<()> {
        sqlx::query("INSERT INTO uploads (id, repository, created_at) VALUES (?, ?, ?)")
            .bind(id)
            .bind(repo.as_str())
            .bind(now())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn upload_repository(&self, id: &str) -> MetaResult<Option<String>> {
        Ok(sqlx::query_scalar("SELECT repository FROM uploads WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    async fn uploads_created_before(&self, before: i64, limit: u32) -> MetaResult<Vec<String>> {
        let ids = sqlx::query_scalar("SELECT id FROM uploads WHERE created_at < ? ORDER BY created_at LIMIT ?")
            .bind(before)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        Ok(ids)
    }

    async fn delete_upload(&self, id: &str) -> MetaResult<bool> {
        let done = sqlx::query("DELETE FROM uploads WHERE id = ?").bind(id).execute(&self.pool).await?;
        Ok(done.rows_affected() > 0)
    }

    async fn put_manifest(&self, repo: &RepoName, m: &NewManifest, tag: Option<&Tag>) -> MetaResult<ManifestPut> {
        // The transaction holds SQLite's write lock from its start: nothing
        // can unlink what is checked next before the manifest is stored.
        let mut tx = begin_write(&self.pool).await?;
        let repo_id = ensure_repository(&mut tx, repo).await?;
        if let Some(refused) = manifest_refs::refusal(&mut tx, repo_id, m).await? {
            return Ok(refused);
        }
        let digest = m.digest.to_string();
        let inserted = sqlx::query(
            "INSERT INTO manifests (repository_id, digest, media_type, artifact_type, subject, annotations, size, body, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        )
        .bind(repo_id)
        .bind(&digest)
        .bind(&m.media_type)
        .bind(&m.artifact_type)
        .bind(m.subject.as_ref().map(|s| s.digest.to_string()))
        .bind(&m.annotations)
        .bind(m.body.len() as i64)
        .bind(m.body.as_ref())
        .bind(now())
        .execute(&mut *tx)
        .await?
        .rows_affected()
            > 0;
        if inserted {
            let blobs = m.blob_refs.iter().map(|r| (&r.digest, false));
            let children = blobs.chain(m.manifest_refs.iter().map(|r| (&r.digest, true)));
            for (child, is_manifest) in children {
                sqlx::query(
                    "INSERT INTO manifest_references (repository_id, manifest_digest, child_digest, child_is_manifest)
                     VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                )
                .bind(repo_id)
                .bind(&digest)
                .bind(child.to_string())
                .bind(is_manifest)
                .execute(&mut *tx)
                .await?;
            }
        }
        if let Some(tag) = tag {
            sqlx::query(
                "INSERT INTO tags (repository_id, name, digest, updated_at) VALUES (?, ?, ?, ?)
                 ON CONFLICT (repository_id, name) DO UPDATE SET digest = excluded.digest, updated_at = excluded.updated_at",
            )
            .bind(repo_id)
            .bind(tag.as_str())
            .bind(&digest)
            .bind(now())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(ManifestPut::Stored)
    }

    async fn manifest(&self, repo: &RepoName, digest: &Digest) -> MetaResult<Option<ManifestRecord>> {
        let row = sqlx::query(
            "SELECT m.media_type, m.body FROM manifests m JOIN repositories r ON r.id = m.repository_id
             WHERE r.name = ? AND m.digest = ?",
        )
        .bind(repo.as_str())
        .bind(digest.to_string())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| ManifestRecord {
            digest: digest.clone(),
            media_type: r.get(0),
            body: bytes::Bytes::from(r.get::<Vec<u8>, _>(1)),
        }))
    }

    async fn tag_target(&self, repo: &RepoName, tag: &Tag) -> MetaResult<Option<Digest>> {
        let d: Option<String> = sqlx::query_scalar(
            "SELECT t.digest FROM tags t JOIN repositories r ON r.id = t.repository_id WHERE r.name = ? AND t.name = ?",
        )
        .bind(repo.as_str())
        .bind(tag.as_str())
        .fetch_optional(&self.pool)
        .await?;
        d.as_deref().map(parse_digest).transpose()
    }

    async fn delete_manifest(&self, repo: &RepoName, digest: &Digest) -> MetaResult<bool> {
        let done = sqlx::query(
            "DELETE FROM manifests WHERE digest = ? AND repository_id = (SELECT id FROM repositories WHERE name = ?)",
        )
        .bind(digest.to_string())
        .bind(repo.as_str())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn delete_tag(&self, repo: &RepoName, tag: &Tag) -> MetaResult<bool> {
        let done = sqlx::query(
            "DELETE FROM tags WHERE name = ? AND repository_id = (SELECT id FROM repositories WHERE name = ?)",
        )
        .bind(tag.as_str())
        .bind(repo.as_str())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn list_tags(&self, repo: &RepoName, after: Option<&str>, limit: u32) -> MetaResult<Option<Vec<String>>> {
        let mut conn = self.pool.acquire().await?;
        let repo_id: Option<i64> = sqlx::query_scalar("SELECT id FROM repositories WHERE name = ?")
            .bind(repo.as_str())
            .fetch_optional(&mut *conn)
            .await?;
        let Some(repo_id) = repo_id else { return Ok(None) };
        let tags =
            sqlx::query_scalar("SELECT name FROM tags WHERE repository_id = ? AND name > ? ORDER BY name LIMIT ?")
                .bind(repo_id)
                .bind(after.unwrap_or(""))
                .bind(limit)
                .fetch_all(&mut *conn)
                .await?;
        Ok(Some(tags))
    }

    async fn referrers(
        &self,
        repo: &RepoName,
        subject: &Digest,
        artifact_type: Option<&str>,
    ) -> MetaResult<Vec<Referrer>> {
        let rows = sqlx::query(
            "SELECT m.digest, m.media_type, m.size, m.artifact_type, m.annotations
             FROM manifests m JOIN repositories r ON r.id = m.repository_id
             WHERE r.name = ? AND m.subject = ? AND (? IS NULL OR m.artifact_type = ?)
             ORDER BY m.created_at, m.digest",
        )
        .bind(repo.as_str())
        .bind(subject.to_string())
        .bind(artifact_type)
        .bind(artifact_type)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(Referrer {
                    digest: parse_digest(r.get(0))?,
                    media_type: r.get(1),
                    size: r.get::<i64, _>(2) as u64,
                    artifact_type: r.get(3),
                    annotations: r.get(4),
                })
            })
            .collect()
    }
}

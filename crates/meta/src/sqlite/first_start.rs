//! Readying an empty SQLite database in one transaction.

use async_trait::async_trait;

use super::projects::{insert_member, insert_project};
use super::settings::insert_signing_key;
use super::users::insert_user;
use super::{begin_write, SqliteMeta};
use crate::{FirstStart, FirstStartMeta, MetaError, MetaResult};

#[async_trait]
impl FirstStartMeta for SqliteMeta {
    async fn first_start(&self, plan: &FirstStart) -> MetaResult<Option<i64>> {
        // Under the write lock from the start, so two servers starting
        // together cannot both find the database empty.
        let mut tx = begin_write(&self.pool).await?;
        let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users").fetch_one(&mut *tx).await?;
        if users > 0 {
            return Ok(None);
        }
        let admin = insert_user(&mut *tx, &plan.admin)
            .await?
            .map_err(|c| MetaError::Corrupt(format!("a database without users has the admin's {c:?} taken")))?;
        if let Some(project) = insert_project(&mut *tx, &plan.project, Some(admin), &plan.settings).await? {
            insert_member(&mut *tx, project, admin, plan.role).await?;
        }
        insert_signing_key(&mut *tx, &plan.signing_key).await?;
        tx.commit().await?;
        Ok(Some(admin))
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use sqlx::sqlite::{SqliteConnectOptions, SqlitePool};

    use crate::sqlite::SqliteMeta;
    use crate::*;

    fn plan() -> FirstStart {
        let mut admin = crate::suite::user("admin", "");
        admin.sysadmin = true;
        let signing_key = SigningKeyRecord { kid: "first".into(), secret: b"sealed".to_vec(), created_at: 1 };
        FirstStart { admin, project: "library".into(), settings: ProjectSettings::default(), role: 1, signing_key }
    }

    async fn raw(path: &std::path::Path, sql: &str) {
        let options = SqliteConnectOptions::from_str("sqlite://").unwrap().filename(path);
        let pool = SqlitePool::connect_with(options).await.unwrap();
        sqlx::query(sql).execute(&pool).await.unwrap();
        pool.close().await;
    }

    /// A start that fails before the end (here: the membership cannot be
    /// written) leaves nothing behind, and the next start does all of it.
    #[tokio::test]
    async fn a_first_start_that_fails_half_way_leaves_an_empty_database() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("berth.db");
        let meta = SqliteMeta::open(&path).await.unwrap();
        raw(
            &path,
            "CREATE TRIGGER fail_membership BEFORE INSERT ON project_members
             BEGIN SELECT RAISE(ABORT, 'interrupted'); END",
        )
        .await;
        assert!(meta.first_start(&plan()).await.is_err());
        assert_eq!(meta.count_users().await.unwrap(), 0, "the admin outlived a failed first start");
        assert_eq!(meta.project_by_name("library").await.unwrap(), None, "the project outlived it");
        assert!(meta.signing_keys().await.unwrap().is_empty(), "the signing key outlived it");

        raw(&path, "DROP TRIGGER fail_membership").await;
        let admin = meta.first_start(&plan()).await.unwrap().expect("the next start prepares the database");
        assert_eq!(meta.member_role("library", admin).await.unwrap(), Some(1));
        assert_eq!(meta.signing_keys().await.unwrap().len(), 1);
        assert_eq!(meta.first_start(&plan()).await.unwrap(), None, "a prepared database is left alone");
    }
}

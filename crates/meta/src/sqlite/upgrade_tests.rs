//! Upgrading a database made before project ids keyed the audit log
//! (migration 0007): existing entries are linked to their project only
//! when it is not younger than they are, and ids stay unique afterwards.

use std::str::FromStr;

use sqlx::sqlite::{SqliteConnectOptions, SqlitePool};
use sqlx::Row;

use super::SqliteMeta;
use crate::{AuditMeta, AuditQuery, PageRequest, ProjectMeta, ProjectSettings};

/// A database at `path` with the migrations before 0007 applied.
async fn database_before_0007(path: &std::path::Path) -> SqlitePool {
    let old = tempfile::tempdir().unwrap();
    let all = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite");
    for entry in std::fs::read_dir(all).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name().to_string_lossy().as_ref() < "0007" {
            std::fs::copy(entry.path(), old.path().join(entry.file_name())).unwrap();
        }
    }
    let options = SqliteConnectOptions::from_str("sqlite://").unwrap().filename(path).create_if_missing(true);
    let pool = SqlitePool::connect_with(options).await.unwrap();
    sqlx::migrate::Migrator::new(old.path()).await.unwrap().run(&pool).await.unwrap();
    pool
}

#[tokio::test]
async fn old_entries_go_to_their_project_and_ids_stay_unique() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("berth.db");
    let pool = database_before_0007(&path).await;
    // `team` (id 2) was created at 100, after a namesake of it was deleted;
    // `gone` was deleted too. Entries of deleted projects stay unlinked, so
    // an id one of them had may still be given out once.
    for (id, name) in [(1, "library"), (2, "team")] {
        sqlx::query("INSERT INTO projects (id, name, created_at, updated_at) VALUES (?, ?, 100, 100)")
            .bind(id)
            .bind(name)
            .execute(&pool)
            .await
            .unwrap();
    }
    for (at, project) in
        [(50, Some("team")), (100, Some("team")), (150, Some("team")), (160, Some("gone")), (170, None)]
    {
        sqlx::query(
            "INSERT INTO audit_log (at, username, project, resource, resource_type, operation, success)
             VALUES (?, 'admin', ?, 'r', 'project', 'update', 1)",
        )
        .bind(at)
        .bind(project)
        .execute(&pool)
        .await
        .unwrap();
    }
    pool.close().await;

    let meta = SqliteMeta::open(&path).await.unwrap();
    let all = meta.search_audit(&AuditQuery::default(), PageRequest::ALL).await.unwrap();
    let linked: Vec<(i64, Option<i64>)> = all.items.iter().map(|e| (e.at, e.project_id)).collect();
    assert_eq!(linked, [(170, None), (160, None), (150, Some(2)), (100, Some(2)), (50, None)]);

    let next = meta.create_project("next", None, &ProjectSettings::default()).await.unwrap().unwrap();
    assert_eq!(next, 3);
    assert!(meta.delete_project(next).await.unwrap());
    let after = meta.create_project("next", None, &ProjectSettings::default()).await.unwrap().unwrap();
    assert_eq!(after, 4, "the deleted project's id was given out again");
    let last: i64 =
        sqlx::query("SELECT last FROM project_id_sequence").fetch_one(&meta.pool).await.unwrap().get("last");
    assert_eq!(last, 4);
}

//! Upgrading older databases: audit entries linked to their project by id
//! (migration 0007), repositories to theirs (migration 0008).

use std::str::FromStr;

use sqlx::sqlite::{SqliteConnectOptions, SqlitePool};
use sqlx::Row;

use super::SqliteMeta;
use crate::{AuditMeta, AuditQuery, PageRequest, ProjectDeletion, ProjectMeta, ProjectSettings};

/// A database at `path` with the migrations before `version` applied.
async fn database_before(version: &str, path: &std::path::Path) -> SqlitePool {
    let old = tempfile::tempdir().unwrap();
    let all = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/sqlite");
    for entry in std::fs::read_dir(all).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name().to_string_lossy().as_ref() < version {
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
    let pool = database_before("0007", &path).await;
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
    assert_eq!(meta.delete_project(next).await.unwrap(), ProjectDeletion::Deleted);
    let after = meta.create_project("next", None, &ProjectSettings::default()).await.unwrap().unwrap();
    assert_eq!(after, 4, "the deleted project's id was given out again");
    let last: i64 =
        sqlx::query("SELECT last FROM project_id_sequence").fetch_one(&meta.pool).await.unwrap().get("last");
    assert_eq!(last, 4);
}

/// Each repository joins the project its name starts with; one whose
/// project was deleted under it gets a private project of that name back,
/// numbered after every id given out before.
#[tokio::test]
async fn repositories_join_their_project_and_orphans_get_theirs_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("berth.db");
    let pool = database_before("0008", &path).await;
    for sql in [
        "INSERT INTO projects (id, name, created_at, updated_at) VALUES (1, 'team', 5, 5), (2, 'gone', 5, 5)",
        "DELETE FROM projects WHERE id = 2",
        "INSERT INTO repositories (name, created_at) VALUES ('team/app', 10), ('gone/db', 30), ('gone/app', 20)",
    ] {
        sqlx::query(sql).execute(&pool).await.unwrap();
    }
    pool.close().await;

    let meta = SqliteMeta::open(&path).await.unwrap();
    let gone = meta.project_by_name("gone").await.unwrap().expect("the orphans' project is back");
    assert_eq!((gone.id, gone.owner_id, gone.settings.public, gone.created_at), (3, None, false, 20));
    assert_eq!(meta.delete_project(1).await.unwrap(), ProjectDeletion::HoldsRepositories(1));
    assert_eq!(meta.delete_project(gone.id).await.unwrap(), ProjectDeletion::HoldsRepositories(2));
    let unowned = sqlx::query("INSERT INTO repositories (name, created_at) VALUES ('loose/app', 1)")
        .execute(&meta.pool)
        .await
        .unwrap_err();
    assert!(unowned.to_string().contains("a repository needs a project"), "{unowned}");
}

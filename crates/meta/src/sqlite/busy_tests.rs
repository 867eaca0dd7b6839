//! Many writers on one database file, as several server nodes and their
//! request handlers are: every write that reads before it writes must wait
//! for its turn, never fail because the database is busy.

use std::sync::Arc;

use berth_core::{RepoName, Tag};

use super::SqliteMeta;
use crate::suite::manifest;
use crate::*;

const TASKS: usize = 16;
const ROUNDS: usize = 40;

/// One writer's rounds in its own repository: each operation reads what
/// it then changes (the project, the manifest, the repository's rows).
async fn write_rounds(meta: &SqliteMeta, task: usize, project: i64) -> Vec<String> {
    let repo: RepoName = format!("busy/app-{task}").parse().unwrap();
    let (v1, stable): (Tag, Tag) = ("v1".parse().unwrap(), "stable".parse().unwrap());
    let mut failures = Vec::new();
    let mut check = |what: &str, r: MetaResult<bool>| match r {
        Ok(true) => {}
        Ok(false) => failures.push(format!("{what} found nothing to change")),
        Err(e) => failures.push(format!("{what}: {e}")),
    };
    for round in 0..ROUNDS {
        let m = manifest(&format!("{{\"task\":{task},\"round\":{round}}}"), vec![], None, None);
        let put = meta.put_manifest(&repo, &m, Some(&v1)).await;
        check("put_manifest", put.map(|p| p == ManifestPut::Stored));
        let tagged = meta.create_tag(&repo, &stable, &m.digest).await;
        check("create_tag", tagged.map(|t| t == TagCreation::Created));
        let refused = meta.delete_project(project).await;
        check("delete_project", refused.map(|d| matches!(d, ProjectDeletion::HoldsRepositories(_))));
        check("untag", meta.untag(&repo, &stable, &m.digest).await);
        check("delete_repository", meta.delete_repository(&repo).await);
    }
    failures
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_writers_on_one_file_never_find_the_database_busy() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("berth.db");
    // Two handles on one file: two server nodes, each with its own pool.
    let nodes = [Arc::new(SqliteMeta::open(&path).await.unwrap()), Arc::new(SqliteMeta::open(&path).await.unwrap())];
    let project = nodes[0].create_project("busy", None, &ProjectSettings::default()).await.unwrap().unwrap();
    // One repository that stays keeps the project from being deleted.
    let keeper: RepoName = "busy/keeper".parse().unwrap();
    nodes[0].link_blob(&keeper, &berth_core::Digest::sha256_of(b"keeper"), 6).await.unwrap();
    let tasks: Vec<_> = (0..TASKS)
        .map(|task| {
            let meta = nodes[task % 2].clone();
            tokio::spawn(async move { write_rounds(&meta, task, project).await })
        })
        .collect();
    let mut failures = Vec::new();
    for task in tasks {
        failures.extend(task.await.unwrap());
    }
    assert!(failures.is_empty(), "{} of {} writes failed, first: {}", failures.len(), TASKS * ROUNDS * 5, failures[0]);
}

//! Faults injected into the blob store's writes, flushes and renames and
//! into the database: every failing push is refused, leaves nothing
//! visible, and the same push succeeds once the fault is gone.

use std::sync::Arc;

use berth_core::{Digest, Error, RepoName};
use berth_meta::sqlite::SqliteMeta;
use berth_storage::fs::faults::{Failure, FaultyFileOps, Step};
use berth_storage::fs::FsBlobStore;
use berth_storage::ByteStream;
use bytes::Bytes;
use futures::StreamExt;
use sqlx::Connection;

use crate::Registry;

struct Rig {
    _dir: tempfile::TempDir,
    registry: Registry,
    faults: Arc<FaultyFileOps>,
    db: sqlx::SqliteConnection,
}

async fn rig() -> Rig {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("berth.db");
    let meta = SqliteMeta::open(&path).await.unwrap();
    let faults = Arc::new(FaultyFileOps::default());
    let blobs = FsBlobStore::open_with(dir.path(), true, faults.clone()).unwrap();
    let db = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display())).await.unwrap();
    Rig { _dir: dir, registry: Registry::new(Arc::new(meta), Arc::new(blobs)), faults, db }
}

fn body(bytes: &[u8]) -> ByteStream {
    let chunks: Vec<std::io::Result<Bytes>> = bytes.chunks(64 * 1024).map(|c| Ok(Bytes::copy_from_slice(c))).collect();
    Box::pin(futures::stream::iter(chunks))
}

fn content(seed: u8) -> (Vec<u8>, Digest) {
    let bytes: Vec<u8> = (0..3 * 1024 * 1024 + 17).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect();
    let digest = Digest::sha256_of(&bytes);
    (bytes, digest)
}

async fn assert_invisible(registry: &Registry, repo: &RepoName, digest: &Digest, fault: &str) {
    let seen = registry.stat_blob(repo, digest).await;
    assert!(matches!(seen, Err(Error::BlobUnknown(_))), "{fault}: an unacknowledged blob is visible: {seen:?}");
}

async fn assert_serves(registry: &Registry, repo: &RepoName, digest: &Digest, bytes: &[u8]) {
    let mut got = Vec::new();
    let mut stream = registry.get_blob(repo, digest, None).await.unwrap().stream;
    while let Some(chunk) = stream.next().await {
        got.extend_from_slice(&chunk.unwrap());
    }
    assert!(got == bytes, "{digest} serves other bytes");
}

const FILE_FAULTS: [(Step, u64, Failure); 6] = [
    (Step::Write, 1, Failure::NoSpace),
    (Step::Write, 3, Failure::Io),
    (Step::Sync, 1, Failure::Io),
    (Step::Sync, 1, Failure::NoSpace),
    (Step::Rename, 1, Failure::NoSpace),
    (Step::SyncDir, 1, Failure::Io),
];

#[tokio::test]
async fn a_monolithic_push_that_meets_a_file_fault_is_refused_and_invisible() {
    let rig = rig().await;
    for (i, (step, nth, failure)) in FILE_FAULTS.into_iter().enumerate() {
        let repo: RepoName = format!("faults/whole{i}").parse().unwrap();
        let (bytes, digest) = content(i as u8);
        rig.faults.fail_nth(step, nth, failure);
        let refused = rig.registry.upload_whole(&repo, &digest, body(&bytes)).await;
        let fault = format!("{step:?} #{nth} {failure:?}");
        assert!(rig.faults.fired(), "{fault} was never reached");
        match (failure, &refused) {
            (Failure::NoSpace, Err(Error::StorageFull(_))) | (Failure::Io, Err(Error::Internal(_))) => {}
            _ => panic!("{fault} answered {refused:?}"),
        }
        assert_invisible(&rig.registry, &repo, &digest, &fault).await;
        assert_eq!(rig.registry.upload_whole(&repo, &digest, body(&bytes)).await.unwrap(), bytes.len() as u64);
        assert_serves(&rig.registry, &repo, &digest, &bytes).await;
    }
}

#[tokio::test]
async fn a_chunked_push_keeps_exactly_its_acknowledged_chunks_through_faults() {
    let rig = rig().await;
    for (i, (step, nth, failure)) in FILE_FAULTS.into_iter().enumerate() {
        let repo: RepoName = format!("faults/chunked{i}").parse().unwrap();
        let (bytes, digest) = content(100 + i as u8);
        let (first, second) = bytes.split_at(1024 * 1024);
        let id = rig.registry.start_upload(&repo).await.unwrap();
        let id = id.as_str();
        assert_eq!(rig.registry.append_upload(&repo, id, Some(0), body(first)).await.unwrap(), first.len() as u64);

        rig.faults.fail_nth(step, nth, failure);
        let fault = format!("{step:?} #{nth} {failure:?}");
        // The fault hits the second chunk, or (rename, directory flush) the finish.
        let appended = rig.registry.append_upload(&repo, id, None, body(second)).await;
        let finished = match appended {
            Ok(_) => rig.registry.finish_upload(&repo, id, &digest, None, None).await,
            Err(e) => {
                assert_eq!(rig.registry.upload_status(&repo, id).await.unwrap(), first.len() as u64, "{fault}: {e}");
                rig.registry.append_upload(&repo, id, Some(first.len() as u64), body(second)).await.unwrap();
                rig.registry.finish_upload(&repo, id, &digest, None, None).await
            }
        };
        assert!(rig.faults.fired(), "{fault} was never reached");
        if finished.is_err() {
            assert_invisible(&rig.registry, &repo, &digest, &fault).await;
            // The session survives a failed finish and a retry succeeds;
            // except after a failed directory flush, where the upload was
            // already moved and the client pushes the blob again.
            match rig.registry.finish_upload(&repo, id, &digest, None, None).await {
                Ok(_) => {}
                Err(Error::BlobUploadUnknown(_)) if step == Step::SyncDir => {
                    rig.registry.upload_whole(&repo, &digest, body(&bytes)).await.unwrap();
                }
                Err(e) => panic!("{fault}: retrying the finish failed: {e}"),
            }
        }
        assert_serves(&rig.registry, &repo, &digest, &bytes).await;
    }
}

#[tokio::test]
async fn a_push_whose_database_write_fails_rolls_back_completely() {
    let mut rig = rig().await;
    let repo: RepoName = "faults/db".parse().unwrap();
    let (bytes, digest) = content(7);
    let refuse = "CREATE TRIGGER refuse BEFORE INSERT ON repository_blobs BEGIN SELECT RAISE(ABORT, 'injected'); END";
    sqlx::query(refuse).execute(&mut rig.db).await.unwrap();
    let refused = rig.registry.upload_whole(&repo, &digest, body(&bytes)).await;
    assert!(matches!(refused, Err(Error::Internal(_))), "{refused:?}");
    assert_invisible(&rig.registry, &repo, &digest, "database").await;
    // The transaction's earlier writes (repository, blob row) went with it.
    let (repos,): (i64,) = sqlx::query_as("SELECT count(*) FROM repositories").fetch_one(&mut rig.db).await.unwrap();
    let (rows,): (i64,) = sqlx::query_as("SELECT count(*) FROM blobs").fetch_one(&mut rig.db).await.unwrap();
    assert_eq!((repos, rows), (0, 0), "a failed push left rows behind");

    sqlx::query("DROP TRIGGER refuse").execute(&mut rig.db).await.unwrap();
    rig.registry.upload_whole(&repo, &digest, body(&bytes)).await.unwrap();
    assert_serves(&rig.registry, &repo, &digest, &bytes).await;
}

#[tokio::test]
async fn a_retried_final_put_whose_chunk_was_already_stored_completes_the_upload() {
    let rig = rig().await;
    let repo: RepoName = "faults/retry".parse().unwrap();
    let (bytes, digest) = content(9);
    let (first, last) = bytes.split_at(2 * 1024 * 1024);
    let id = rig.registry.start_upload(&repo).await.unwrap();
    let id = id.as_str();
    rig.registry.append_upload(&repo, id, Some(0), body(first)).await.unwrap();
    let range = super::ChunkRange { start: first.len() as u64, end: bytes.len() as u64 - 1 };
    // The first attempt stores its chunk, then fails to publish.
    rig.faults.fail_nth(Step::Rename, 1, Failure::Io);
    let failed = rig.registry.finish_upload(&repo, id, &digest, Some(body(last)), Some(range)).await;
    assert!(matches!(failed, Err(Error::Internal(_))), "{failed:?}");
    // The client retries the same request: the chunk is not appended twice.
    let retried = rig.registry.finish_upload(&repo, id, &digest, Some(body(last)), Some(range)).await;
    assert_eq!(retried.unwrap(), bytes.len() as u64);
    assert_serves(&rig.registry, &repo, &digest, &bytes).await;
}

//! Uploads are never lost to timing: a purge racing a client that resumes
//! an old upload, and a client that disconnects mid-request, run many
//! rounds each.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use berth_core::{Digest, Error, RepoName};
use berth_meta::sqlite::SqliteMeta;
use berth_storage::fs::FsBlobStore;
use berth_storage::ByteStream;
use bytes::Bytes;
use futures::StreamExt;

use crate::Registry;

const ROUNDS: usize = 50;

async fn registry(dir: &std::path::Path) -> Registry {
    let meta = SqliteMeta::open(&dir.join("berth.db")).await.unwrap();
    Registry::new(Arc::new(meta), Arc::new(FsBlobStore::open(dir, true).unwrap()))
}

/// A body that sends `parts` with a pause before each, as a slow client.
fn slow_body(parts: Vec<&'static [u8]>, pause: Duration) -> ByteStream {
    Box::pin(futures::stream::unfold(parts.into_iter(), move |mut parts| async move {
        let part = parts.next()?;
        tokio::time::sleep(pause).await;
        Some((Ok(Bytes::from_static(part)), parts))
    }))
}

fn make_old(dir: &std::path::Path, id: &str) {
    let file = std::fs::File::options().write(true).open(dir.join("uploads").join(id)).unwrap();
    file.set_modified(SystemTime::now() - Duration::from_secs(3600)).unwrap();
}

#[tokio::test]
async fn a_purge_never_takes_an_upload_a_client_is_resuming() {
    let dir = tempfile::tempdir().unwrap();
    let registry = registry(dir.path()).await;
    let repo: RepoName = "races/purge".parse().unwrap();
    let (mut resumed, mut purged_first) = (0, 0);
    for _ in 0..ROUNDS {
        let id = registry.start_upload(&repo).await.unwrap();
        let id = id.as_str().to_owned();
        registry.append_upload(&repo, &id, Some(0), slow_body(vec![b"old-"], Duration::ZERO)).await.unwrap();
        make_old(dir.path(), &id);
        let resume =
            registry.append_upload(&repo, &id, Some(4), slow_body(vec![b"new", b"er"], Duration::from_millis(2)));
        let purge = async {
            tokio::time::sleep(Duration::from_millis(1)).await;
            registry.purge_abandoned_uploads(Duration::from_secs(60)).await.unwrap()
        };
        let (appended, _) = tokio::join!(resume, purge);
        match appended {
            Ok(size) => {
                assert_eq!(size, 9);
                let kept = registry.upload_status(&repo, &id).await;
                assert_eq!(kept.ok(), Some(9), "an upload was purged while a client resumed it");
                resumed += 1;
            }
            Err(Error::BlobUploadUnknown(_)) => purged_first += 1,
            Err(e) => panic!("resuming failed: {e}"),
        }
        let _ = registry.cancel_upload(&repo, &id).await;
    }
    eprintln!("resumed {resumed}, purged before the resume {purged_first}");
}

#[tokio::test]
async fn a_client_that_disconnects_mid_upload_leaves_no_staged_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let registry = registry(dir.path()).await;
    let repo: RepoName = "races/gone".parse().unwrap();
    let uploads = dir.path().join("uploads");
    for round in 0..ROUNDS {
        // A first chunk, then nothing more: the client has gone quiet.
        let body: ByteStream = Box::pin(
            futures::stream::iter([Ok(Bytes::from(vec![round as u8; 3 << 20]))]).chain(futures::stream::pending()),
        );
        let digest = Digest::sha256_of(b"never completes");
        let registry2 = registry.clone();
        let repo2 = repo.clone();
        let push = tokio::spawn(async move { registry2.upload_whole(&repo2, &digest, body).await });
        tokio::time::sleep(Duration::from_millis(5 + (round % 5) as u64)).await;
        push.abort(); // the connection closed
        let _ = push.await;
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        loop {
            let left = std::fs::read_dir(&uploads).unwrap().count();
            if left == 0 {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "round {round}: {left} staged upload(s) left behind");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

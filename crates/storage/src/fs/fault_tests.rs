//! Failures injected at every durable step of an upload: each is reported,
//! undoes what it interrupted, and the upload can go on afterwards.

use std::sync::Arc;

use berth_core::Digest;
use bytes::Bytes;

use super::faults::{Failure, FaultyFileOps, Step};
use super::FsBlobStore;
use crate::{BlobStore, ByteStream, StorageError, UploadId};

fn body(bytes: Vec<u8>) -> ByteStream {
    // Several batches' worth of small network chunks.
    let chunks: Vec<std::io::Result<Bytes>> = bytes.chunks(64 * 1024).map(|c| Ok(Bytes::copy_from_slice(c))).collect();
    Box::pin(futures::stream::iter(chunks))
}

fn store() -> (tempfile::TempDir, Arc<FaultyFileOps>, FsBlobStore) {
    let dir = tempfile::tempdir().unwrap();
    let ops = Arc::new(FaultyFileOps::default());
    let store = FsBlobStore::open_with(dir.path(), true, ops.clone()).unwrap();
    (dir, ops, store)
}

async fn upload_with(store: &FsBlobStore, first: &[u8]) -> UploadId {
    let id = UploadId::new();
    store.create_upload(&id).await.unwrap();
    store.append_upload(&id, Some(0), body(first.to_vec())).await.unwrap();
    id
}

#[tokio::test]
async fn a_failed_write_or_flush_undoes_the_whole_append() {
    let data: Vec<u8> = (0..5 * 1024 * 1024).map(|i| (i % 251) as u8).collect();
    let cases = [(Step::Write, 1, Failure::NoSpace), (Step::Write, 3, Failure::Io), (Step::Sync, 1, Failure::Io)];
    for (step, nth, failure) in cases {
        let (_dir, ops, store) = store();
        let id = upload_with(&store, b"acknowledged ").await;
        ops.fail_nth(step, nth, failure);
        let failed = store.append_upload(&id, None, body(data.clone())).await;
        assert!(ops.fired(), "{step:?} #{nth} was never reached");
        match (failure, &failed) {
            (Failure::NoSpace, Err(StorageError::Full(_))) | (Failure::Io, Err(StorageError::Backend(_))) => {}
            _ => panic!("{step:?} #{nth} {failure:?} answered {failed:?}"),
        }
        assert_eq!(store.upload_size(&id).await.unwrap(), 13, "{step:?}: the failed append left bytes behind");
        // The client resumes from the acknowledged size and finishes.
        assert_eq!(store.append_upload(&id, Some(13), body(data.clone())).await.unwrap(), 13 + data.len() as u64);
        let mut whole = b"acknowledged ".to_vec();
        whole.extend_from_slice(&data);
        let digest = Digest::sha256_of(&whole);
        assert_eq!(store.finish_upload(&id, &digest).await.unwrap(), whole.len() as u64);
        assert_eq!(store.stat(&digest).await.unwrap(), Some(whole.len() as u64));
    }
}

#[tokio::test]
async fn a_flush_error_seen_by_early_writeback_still_fails_the_append() {
    // Large enough that the side thread flushes once before the final flush.
    let data = vec![7u8; (super::writeback::NUDGE_EVERY + 4 * 1024 * 1024) as usize];
    let (_dir, ops, store) = store();
    let id = upload_with(&store, b"").await;
    ops.fail_nth(Step::Sync, 1, Failure::Io);
    let failed = store.append_upload(&id, None, body(data)).await;
    assert!(ops.fired());
    assert!(matches!(failed, Err(StorageError::Backend(_))), "{failed:?}");
    assert_eq!(store.upload_size(&id).await.unwrap(), 0);
}

#[tokio::test]
async fn a_failed_publish_publishes_nothing_and_can_be_retried() {
    let (_dir, ops, store) = store();
    let id = upload_with(&store, b"payload").await;
    let digest = Digest::sha256_of(b"payload");
    ops.fail_nth(Step::Rename, 1, Failure::NoSpace);
    assert!(matches!(store.finish_upload(&id, &digest).await, Err(StorageError::Full(_))));
    assert_eq!(store.stat(&digest).await.unwrap(), None, "a blob became visible after a failed rename");
    assert_eq!(store.upload_size(&id).await.unwrap(), 7, "the upload was lost with the failed rename");
    assert_eq!(store.finish_upload(&id, &digest).await.unwrap(), 7);
    assert_eq!(store.stat(&digest).await.unwrap(), Some(7));
}

#[tokio::test]
async fn a_failed_directory_flush_fails_the_finish() {
    let (_dir, ops, store) = store();
    let id = upload_with(&store, b"payload").await;
    ops.fail_nth(Step::SyncDir, 1, Failure::Io);
    let result = store.finish_upload(&id, &Digest::sha256_of(b"payload")).await;
    assert!(ops.fired());
    assert!(matches!(result, Err(StorageError::Backend(_))), "{result:?}");
}

#[tokio::test]
async fn a_repush_replaces_a_damaged_blob_file() {
    let (dir, _ops, store) = store();
    let digest = Digest::sha256_of(b"the right bytes");
    let id = upload_with(&store, b"the right bytes").await;
    store.finish_upload(&id, &digest).await.unwrap();
    let path = super::blob_path(dir.path(), &digest);
    std::fs::write(&path, b"the wrong bytes").unwrap();
    let id = upload_with(&store, b"the right bytes").await;
    store.finish_upload(&id, &digest).await.unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), b"the right bytes");
}

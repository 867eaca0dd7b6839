//! The behaviour every [`BlobStore`] backend must show. Each backend's
//! tests call [`run_all`] on a fresh, empty store.

use berth_core::{Algorithm, Digest};
use bytes::Bytes;
use futures::StreamExt;

use crate::{BlobStore, ByteRange, ByteStream, StorageError, UploadId};

fn body(parts: Vec<&'static [u8]>) -> ByteStream {
    Box::pin(futures::stream::iter(parts.into_iter().map(|p| Ok(Bytes::from_static(p)))))
}

async fn read_all(store: &dyn BlobStore, d: &Digest, range: Option<ByteRange>) -> Vec<u8> {
    collect(store.read(d, range).await.expect("read")).await
}

async fn collect(mut s: ByteStream) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(chunk) = s.next().await {
        out.extend_from_slice(&chunk.expect("chunk"));
    }
    out
}

/// Runs every check against `store`.
pub async fn run_all(store: &dyn BlobStore) {
    upload_then_read(store).await;
    large_blob_streams_in_chunks(store).await;
    offset_mismatch_is_refused(store).await;
    digest_mismatch_leaves_nothing(store).await;
    interrupted_body_keeps_prefix(store).await;
    cancel_and_delete(store).await;
    sha512_upload(store).await;
    idle_uploads_are_listed(store).await;
    only_idle_uploads_are_discarded(store).await;
    checked_reads(store).await;
    wrong_size_is_set_aside(store).await;
}

async fn upload_then_read(store: &dyn BlobStore) {
    let id = UploadId::new();
    store.create_upload(&id).await.unwrap();
    assert_eq!(store.append_upload(&id, Some(0), body(vec![b"hello ", b"wor"])).await.unwrap(), 9);
    assert_eq!(store.upload_size(&id).await.unwrap(), 9);
    assert_eq!(store.append_upload(&id, None, body(vec![b"l"])).await.unwrap(), 10);
    assert_eq!(store.append_upload(&id, Some(10), body(vec![b"d"])).await.unwrap(), 11);
    let d = Digest::sha256_of(b"hello world");
    assert_eq!(store.stat(&d).await.unwrap(), None);
    assert_eq!(store.finish_upload(&id, &d).await.unwrap(), 11);
    assert_eq!(store.stat(&d).await.unwrap(), Some(11));
    assert_eq!(read_all(store, &d, None).await, b"hello world");
    assert_eq!(read_all(store, &d, Some(ByteRange { start: 6, end: 10 })).await, b"world");
    assert!(matches!(store.upload_size(&id).await, Err(StorageError::UploadNotFound)));
}

async fn large_blob_streams_in_chunks(store: &dyn BlobStore) {
    let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    let d = Digest::sha256_of(&data);
    let id = UploadId::new();
    store.create_upload(&id).await.unwrap();
    let chunks: Vec<std::io::Result<Bytes>> = data.chunks(70_000).map(|c| Ok(Bytes::copy_from_slice(c))).collect();
    store.append_upload(&id, Some(0), Box::pin(futures::stream::iter(chunks))).await.unwrap();
    store.finish_upload(&id, &d).await.unwrap();
    assert_eq!(read_all(store, &d, None).await, data);
    let r = ByteRange { start: 1_000_001, end: 2_999_998 };
    assert_eq!(read_all(store, &d, Some(r)).await, &data[1_000_001..=2_999_998]);
}

async fn offset_mismatch_is_refused(store: &dyn BlobStore) {
    let id = UploadId::new();
    store.create_upload(&id).await.unwrap();
    store.append_upload(&id, Some(0), body(vec![b"abc"])).await.unwrap();
    let err = store.append_upload(&id, Some(5), body(vec![b"x"])).await.unwrap_err();
    assert!(matches!(err, StorageError::OffsetMismatch { size: 3, offset: 5 }), "{err:?}");
    assert_eq!(store.upload_size(&id).await.unwrap(), 3);
    store.cancel_upload(&id).await.unwrap();
}

async fn digest_mismatch_leaves_nothing(store: &dyn BlobStore) {
    let id = UploadId::new();
    store.create_upload(&id).await.unwrap();
    store.append_upload(&id, Some(0), body(vec![b"real content"])).await.unwrap();
    let claimed = Digest::sha256_of(b"other content");
    let err = store.finish_upload(&id, &claimed).await.unwrap_err();
    match err {
        StorageError::DigestMismatch { actual, size } => {
            assert_eq!(actual, Digest::sha256_of(b"real content"));
            assert_eq!(size, 12);
        }
        other => panic!("expected a digest mismatch, got {other:?}"),
    }
    assert_eq!(store.stat(&claimed).await.unwrap(), None);
    assert_eq!(store.stat(&Digest::sha256_of(b"real content")).await.unwrap(), None);
}

async fn interrupted_body_keeps_prefix(store: &dyn BlobStore) {
    let id = UploadId::new();
    store.create_upload(&id).await.unwrap();
    let broken: ByteStream = Box::pin(futures::stream::iter(vec![
        Ok(Bytes::from_static(b"first half ")),
        Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "client went away")),
    ]));
    let err = store.append_upload(&id, Some(0), broken).await.unwrap_err();
    assert!(matches!(err, StorageError::BodyInterrupted { size: 11, .. }), "{err:?}");
    store.append_upload(&id, Some(11), body(vec![b"second half"])).await.unwrap();
    let d = Digest::sha256_of(b"first half second half");
    store.finish_upload(&id, &d).await.unwrap();
    assert_eq!(read_all(store, &d, None).await, b"first half second half");
}

async fn cancel_and_delete(store: &dyn BlobStore) {
    let id = UploadId::new();
    store.create_upload(&id).await.unwrap();
    store.cancel_upload(&id).await.unwrap();
    assert!(matches!(store.upload_size(&id).await, Err(StorageError::UploadNotFound)));
    assert!(matches!(store.cancel_upload(&id).await, Err(StorageError::UploadNotFound)));
    let unknown = UploadId::new();
    assert!(matches!(
        store.append_upload(&unknown, Some(0), body(vec![b"x"])).await,
        Err(StorageError::UploadNotFound)
    ));

    let d = Digest::sha256_of(b"hello world");
    store.delete(&d).await.unwrap();
    assert_eq!(store.stat(&d).await.unwrap(), None);
    assert!(matches!(store.read(&d, None).await, Err(StorageError::BlobNotFound)));
    store.delete(&d).await.unwrap();
}

async fn sha512_upload(store: &dyn BlobStore) {
    let id = UploadId::new();
    store.create_upload(&id).await.unwrap();
    store.append_upload(&id, Some(0), body(vec![b"sha512 ", b"content"])).await.unwrap();
    let d = Digest::of(Algorithm::Sha512, b"sha512 content");
    assert_eq!(store.finish_upload(&id, &d).await.unwrap(), 14);
    assert_eq!(read_all(store, &d, None).await, b"sha512 content");
}

async fn idle_uploads_are_listed(store: &dyn BlobStore) {
    use std::time::{Duration, SystemTime};
    let id = UploadId::new();
    store.create_upload(&id).await.unwrap();
    let long_ago = SystemTime::now() - Duration::from_secs(3600);
    assert!(!store.uploads_idle_since(long_ago).await.unwrap().contains(&id));
    let soon = SystemTime::now() + Duration::from_secs(5);
    assert!(store.uploads_idle_since(soon).await.unwrap().contains(&id));
    store.cancel_upload(&id).await.unwrap();
    assert!(!store.uploads_idle_since(soon).await.unwrap().contains(&id));
}

async fn only_idle_uploads_are_discarded(store: &dyn BlobStore) {
    use std::time::{Duration, SystemTime};
    let id = UploadId::new();
    store.create_upload(&id).await.unwrap();
    store.append_upload(&id, Some(0), body(vec![b"kept"])).await.unwrap();
    let long_ago = SystemTime::now() - Duration::from_secs(3600);
    assert!(!store.discard_idle_upload(&id, long_ago).await.unwrap(), "a fresh upload was discarded");
    assert_eq!(store.upload_size(&id).await.unwrap(), 4);
    let soon = SystemTime::now() + Duration::from_secs(5);
    assert!(store.discard_idle_upload(&id, soon).await.unwrap());
    assert!(matches!(store.upload_size(&id).await, Err(StorageError::UploadNotFound)));
    assert!(!store.discard_idle_upload(&id, soon).await.unwrap(), "an absent upload was reported discarded");
}

async fn store_blob(store: &dyn BlobStore, data: &[u8]) -> Digest {
    let d = Digest::sha256_of(data);
    let id = UploadId::new();
    store.create_upload(&id).await.unwrap();
    let chunks: Vec<std::io::Result<Bytes>> = data.chunks(70_000).map(|c| Ok(Bytes::copy_from_slice(c))).collect();
    store.append_upload(&id, Some(0), Box::pin(futures::stream::iter(chunks))).await.unwrap();
    assert_eq!(store.finish_upload(&id, &d).await.unwrap(), data.len() as u64);
    d
}

async fn checked_reads(store: &dyn BlobStore) {
    let big: Vec<u8> = (0..3_000_000u32).map(|i| (i % 241) as u8).collect();
    for data in [&b"checked small blob"[..], &big[..]] {
        let d = store_blob(store, data).await;
        let size = data.len() as u64;
        store.check_size(&d, size).await.unwrap();
        assert_eq!(collect(store.read_checked(&d, size, None).await.unwrap()).await, data);
        let r = ByteRange { start: 3, end: size - 2 };
        assert_eq!(collect(store.read_checked(&d, size, Some(r)).await.unwrap()).await, &data[3..size as usize - 1]);
    }
    let absent = Digest::sha256_of(b"never stored");
    assert!(matches!(store.check_size(&absent, 12).await, Err(StorageError::BlobNotFound)));
    assert!(matches!(store.read_checked(&absent, 12, None).await, Err(StorageError::BlobNotFound)));
}

/// A blob whose stored length is not the one recorded is set aside on
/// the first check, reads as absent, and a new upload stores it again.
async fn wrong_size_is_set_aside(store: &dyn BlobStore) {
    let data = b"a blob whose recorded size will disagree";
    for (recorded, check_first) in [(data.len() as u64 + 1, true), (data.len() as u64 - 1, false)] {
        let d = store_blob(store, data).await;
        let found = if check_first {
            store.check_size(&d, recorded).await.map(|_| ())
        } else {
            store.read_checked(&d, recorded, None).await.map(|_| ())
        };
        assert!(matches!(found, Err(StorageError::BlobDamaged(_))), "{found:?}");
        assert_eq!(store.stat(&d).await.unwrap(), None);
        assert!(matches!(store.check_size(&d, recorded).await, Err(StorageError::BlobNotFound)));
        assert!(matches!(store.read_checked(&d, recorded, None).await, Err(StorageError::BlobNotFound)));
        store_blob(store, data).await;
        assert_eq!(collect(store.read_checked(&d, data.len() as u64, None).await.unwrap()).await, data);
    }
}

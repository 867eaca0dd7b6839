//! Opening stored blobs for reading.
//!
//! Reads for clients are checked: the stored size against the one recorded
//! before anything is sent, and a whole read's digest as it streams, the
//! last chunk held back until the digest matched, unless the file was
//! proven to match recently and has not changed since ([`Verified`]). A blob of one chunk or
//! less is read and checked in a single blocking task; larger ones stream
//! through [`Chunks`], which never holds a thread while the client is slow.

use std::fs::{File, Metadata};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use berth_core::{Digest, DigestHasher};
use bytes::Bytes;

use super::chunks::Chunks;
use super::quarantine::{set_aside, Damage};
use super::verified::Verified;
use super::{absent_as, blocking};
use crate::{ByteRange, ByteStream, StorageError, StorageResult};

/// Bytes read per blocking task: large enough that the hop to the blocking
/// pool costs little next to the copy, small enough to bound memory per
/// download (a few chunks plus the connection's buffer).
pub(super) const CHUNK: usize = 512 * 1024;

/// Streams the stored bytes as they are (see `BlobStore::read`).
pub(super) async fn open_stream(path: PathBuf, range: Option<ByteRange>) -> StorageResult<ByteStream> {
    open(move || {
        let (file, found) = open_file(&path)?;
        let (start, len) = range.map_or((0, found.len()), |r| (r.start, r.len()));
        Reader::new(file, start, len, None)
    })
    .await
}

/// Streams a blob to a client after checking it (see `BlobStore::read_checked`).
pub(super) async fn open_checked(
    root: &Path,
    digest: &Digest,
    size: u64,
    range: Option<ByteRange>,
    verified: Arc<Verified>,
) -> StorageResult<ByteStream> {
    let (root, digest) = (root.to_path_buf(), digest.clone());
    open(move || {
        let blob = Blob { path: super::blob_path(&root, &digest), root, digest };
        let (file, found) = open_file(&blob.path)?;
        blob.check_size(&found, size)?;
        let (start, len, verify) = match range {
            Some(r) => (r.start, r.len(), None),
            None if verified.holds(&blob.digest, &found) => (0, size, None),
            None => (0, size, Some(Verify { hasher: blob.digest.algorithm().hasher(), blob, found, verified })),
        };
        Reader::new(file, start, len, verify)
    })
    .await
}

/// Checks the stored size of a blob (see `BlobStore::check_size`).
///
/// The `stat` runs right here: the kernel answers it from its inode cache
/// in about a microsecond, while a trip to the blocking pool costs ten
/// times that and took a third off `HEAD` throughput. Only a blob found
/// damaged goes to the pool, to be set aside.
pub(super) async fn check_size(root: &Path, digest: &Digest, size: u64) -> StorageResult<()> {
    let path = super::blob_path(root, digest);
    let found = std::fs::metadata(&path).map_err(no_blob)?;
    if found.len() == size {
        return Ok(());
    }
    let blob = Blob { path, root: root.to_path_buf(), digest: digest.clone() };
    blocking(move || blob.check_size(&found, size)).await
}

/// A stored blob and where to set it aside if it turns out damaged.
struct Blob {
    root: PathBuf,
    path: PathBuf,
    digest: Digest,
}

impl Blob {
    fn check_size(&self, found: &Metadata, expected: u64) -> StorageResult<()> {
        if found.len() == expected {
            return Ok(());
        }
        Err(set_aside(&self.root, &self.path, &self.digest, found, Damage::Size { stored: found.len(), expected }))
    }
}

/// The running digest of a whole read, checked when its last byte is read.
struct Verify {
    hasher: DigestHasher,
    blob: Blob,
    found: Metadata,
    verified: Arc<Verified>,
}

impl Verify {
    fn finish(self) -> StorageResult<()> {
        let actual = self.hasher.finish();
        if actual == self.blob.digest {
            self.verified.prove(&self.blob.digest, &self.found);
            return Ok(());
        }
        let Verify { blob, found, .. } = self;
        Err(set_aside(&blob.root, &blob.path, &blob.digest, &found, Damage::Content { actual }))
    }
}

/// The part of a file still to be sent, and the digest check of a whole read.
pub(super) struct Reader {
    file: File,
    pub(super) left: u64,
    verify: Option<Verify>,
}

impl Reader {
    fn new(mut file: File, start: u64, len: u64, verify: Option<Verify>) -> StorageResult<Reader> {
        if start > 0 {
            file.seek(SeekFrom::Start(start))?;
        }
        Ok(Reader { file, left: len, verify })
    }

    /// Reads the next chunk. Blocking. The last chunk of a verified read
    /// comes back only if the whole blob matched its digest.
    pub(super) fn next_chunk(&mut self) -> StorageResult<Bytes> {
        let n = self.left.min(CHUNK as u64) as usize;
        // Read into fresh capacity: zeroing it first took about a seventh
        // of a download's CPU time.
        let mut buf = Vec::with_capacity(n);
        (&mut self.file).take(n as u64).read_to_end(&mut buf)?;
        if buf.len() < n {
            return Err(std::io::Error::from(std::io::ErrorKind::UnexpectedEof).into());
        }
        self.left -= n as u64;
        if let Some(verify) = &mut self.verify {
            verify.hasher.update(&buf);
        }
        if self.left == 0 {
            if let Some(verify) = self.verify.take() {
                verify.finish()?;
            }
        }
        Ok(Bytes::from(buf))
    }
}

/// Runs `prepare` on the blocking pool; a blob of one chunk or less is read
/// there too, so small reads (the common case) take a single hop.
async fn open(prepare: impl FnOnce() -> StorageResult<Reader> + Send + 'static) -> StorageResult<ByteStream> {
    let (reader, first) = blocking(move || {
        let mut reader = prepare()?;
        if reader.left > CHUNK as u64 {
            return Ok((reader, None));
        }
        let whole = reader.next_chunk()?;
        Ok((reader, Some(whole)))
    })
    .await?;
    match first {
        Some(whole) => Ok(Box::pin(futures::stream::once(async move { Ok(whole) }))),
        None => Ok(Box::pin(Chunks::new(reader))),
    }
}

fn open_file(path: &Path) -> StorageResult<(File, Metadata)> {
    let file = File::open(path).map_err(no_blob)?;
    let found = file.metadata()?;
    Ok((file, found))
}

fn no_blob(e: std::io::Error) -> StorageError {
    absent_as(e, StorageError::BlobNotFound)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use berth_core::Digest;
    use bytes::Bytes;
    use futures::StreamExt;

    use super::CHUNK;
    use crate::fs::FsBlobStore;
    use crate::{BlobStore, StorageError, UploadId};

    async fn stored(data: &[u8]) -> (tempfile::TempDir, FsBlobStore, Digest) {
        let dir = tempfile::tempdir().unwrap();
        let store = FsBlobStore::open(dir.path(), false).unwrap();
        let (id, d) = (UploadId::new(), Digest::sha256_of(data));
        store.create_upload(&id).await.unwrap();
        let body = futures::stream::once(futures::future::ready(Ok(Bytes::copy_from_slice(data))));
        store.append_upload(&id, Some(0), Box::pin(body)).await.unwrap();
        store.finish_upload(&id, &d).await.unwrap();
        (dir, store, d)
    }

    /// Flips one byte of the stored file in place, keeping its length.
    fn damage(store: &FsBlobStore, d: &Digest, at: usize) {
        let path = store.blob_path(d);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[at] ^= 0xff;
        std::fs::write(&path, bytes).unwrap();
    }

    fn quarantined(dir: &tempfile::TempDir, d: &Digest) -> Vec<String> {
        let names = std::fs::read_dir(dir.path().join("quarantine")).unwrap();
        let names: Vec<String> = names.map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        assert!(names.iter().all(|n| n.starts_with(&format!("sha256-{}-", d.hex()))), "{names:?}");
        names
    }

    #[tokio::test]
    async fn changed_content_fails_the_stream_before_its_end_and_is_set_aside() {
        let data: Vec<u8> = (0..3 * CHUNK + 5).map(|i| (i % 253) as u8).collect();
        let (dir, store, d) = stored(&data).await;
        damage(&store, &d, CHUNK + 7);
        let mut stream = store.read_checked(&d, data.len() as u64, None).await.unwrap();
        let (mut received, mut failure) = (0, None);
        while let Some(item) = stream.next().await {
            match item {
                Ok(chunk) => received += chunk.len(),
                Err(e) => failure = Some(e),
            }
        }
        assert_eq!(failure.expect("the stream must fail").kind(), std::io::ErrorKind::InvalidData);
        assert!(received < data.len(), "all {received} bytes were sent");
        assert_eq!(store.stat(&d).await.unwrap(), None);
        assert_eq!(quarantined(&dir, &d).len(), 1);
        // A range read is not verified, so it does not set anything aside either.
        let (_dir, store, d) = stored(&data).await;
        damage(&store, &d, 3);
        let part = Some(crate::ByteRange { start: 0, end: 9 });
        let got = store.read_checked(&d, data.len() as u64, part).await.unwrap().next().await.unwrap().unwrap();
        assert_eq!(got.len(), 10);
        assert_eq!(store.stat(&d).await.unwrap(), Some(data.len() as u64));
    }

    #[tokio::test]
    async fn a_small_blob_with_changed_content_is_refused_before_any_byte() {
        let (dir, store, d) = stored(b"small and soon damaged").await;
        damage(&store, &d, 0);
        let refused = store.read_checked(&d, 22, None).await.map(|_| ());
        assert!(matches!(refused, Err(StorageError::BlobDamaged(_))), "{refused:?}");
        assert_eq!(store.stat(&d).await.unwrap(), None);
        assert_eq!(quarantined(&dir, &d).len(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_consumer_that_stops_taking_chunks_gets_an_error_after_the_idle_limit() {
        let data = vec![7u8; 3 * CHUNK];
        let (_dir, store, d) = stored(&data).await;
        let mut stream = store.read_checked(&d, data.len() as u64, None).await.unwrap();
        assert_eq!(stream.next().await.unwrap().unwrap().len(), CHUNK);
        tokio::time::advance(crate::fs::upload::IDLE_LIMIT - Duration::from_secs(1)).await;
        assert_eq!(stream.next().await.unwrap().unwrap().len(), CHUNK);
        tokio::time::advance(crate::fs::upload::IDLE_LIMIT + Duration::from_secs(1)).await;
        let late = stream.next().await.unwrap().expect_err("a late consumer gets an error");
        assert_eq!(late.kind(), std::io::ErrorKind::TimedOut);
        assert!(stream.next().await.is_none());
    }
}

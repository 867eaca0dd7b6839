//! Streaming reads of stored blobs.
//!
//! No thread ever waits on the network here: each chunk is read (and
//! hashed) by a short blocking task that starts only once the consumer has
//! taken the chunk before it, so there is one chunk of read-ahead. A client
//! that stops reading then holds that chunk and an open file, but no thread
//! of the blocking pool, which the disk work of every other request needs.
//! A consumer that comes back after more than `IDLE_LIMIT` gets an error
//! instead of more bytes, as an upload that stalls that long does.
//!
//! Reads for clients are checked: the stored size against the one recorded
//! before anything is sent, and a whole read's digest as it streams, holding
//! back the last chunk until the digest matched.

use std::fs::{File, Metadata};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use berth_core::{Digest, DigestHasher};
use bytes::{Bytes, BytesMut};
use tokio::time::Instant;

use super::quarantine::{set_aside, Damage};
use super::upload::IDLE_LIMIT;
use crate::{ByteRange, ByteStream, StorageError, StorageResult};

/// Bytes read per blocking task: large enough that the hop to the blocking
/// pool costs little next to the copy, small enough to bound memory per
/// download (about two chunks plus the connection's buffer).
const CHUNK: usize = 256 * 1024;

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
) -> StorageResult<ByteStream> {
    let (root, digest) = (root.to_path_buf(), digest.clone());
    open(move || {
        let blob = Blob { path: super::blob_path(&root, &digest), root, digest };
        let (file, found) = open_file(&blob.path)?;
        blob.check_size(&found, size)?;
        let (start, len, verify) = match range {
            Some(r) => (r.start, r.len(), None),
            None => (0, size, Some(Verify { hasher: blob.digest.algorithm().hasher(), blob, found })),
        };
        Reader::new(file, start, len, verify)
    })
    .await
}

/// Checks the stored size of a blob (see `BlobStore::check_size`).
pub(super) async fn check_size(root: &Path, digest: &Digest, size: u64) -> StorageResult<()> {
    let blob = Blob { path: super::blob_path(root, digest), root: root.to_path_buf(), digest: digest.clone() };
    blocking(move || {
        let found = std::fs::metadata(&blob.path).map_err(not_found)?;
        blob.check_size(&found, size)
    })
    .await
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
}

impl Verify {
    fn finish(self) -> StorageResult<()> {
        let actual = self.hasher.finish();
        if actual == self.blob.digest {
            return Ok(());
        }
        let Verify { blob, found, .. } = self;
        Err(set_aside(&blob.root, &blob.path, &blob.digest, &found, Damage::Content { actual }))
    }
}

/// The part of a file still to be sent.
struct Reader {
    file: File,
    left: u64,
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
    fn next_chunk(&mut self) -> StorageResult<Bytes> {
        let n = self.left.min(CHUNK as u64) as usize;
        let mut buf = BytesMut::zeroed(n);
        self.file.read_exact(&mut buf)?;
        self.left -= n as u64;
        if let Some(verify) = &mut self.verify {
            verify.hasher.update(&buf);
        }
        if self.left == 0 {
            if let Some(verify) = self.verify.take() {
                verify.finish()?;
            }
        }
        Ok(buf.freeze())
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
        None => Ok(chunks(reader)),
    }
}

/// A read in flight on the blocking pool; it hands the reader back.
type Pending = tokio::task::JoinHandle<(Reader, StorageResult<Bytes>)>;

struct Streaming {
    next: Option<Pending>,
    /// When the consumer last took a chunk.
    taken: Instant,
}

fn read_ahead(mut reader: Reader) -> Pending {
    tokio::task::spawn_blocking(move || {
        let chunk = reader.next_chunk();
        (reader, chunk)
    })
}

fn chunks(reader: Reader) -> ByteStream {
    let start = Streaming { next: Some(read_ahead(reader)), taken: Instant::now() };
    Box::pin(futures::stream::unfold(start, |mut state| async move {
        let pending = state.next.take()?;
        if state.taken.elapsed() > IDLE_LIMIT {
            let e = std::io::Error::new(std::io::ErrorKind::TimedOut, "client read nothing for 60 seconds");
            return Some((Err(e), state));
        }
        let (reader, chunk) = match pending.await {
            Ok(done) => done,
            Err(e) => return Some((Err(std::io::Error::other(e)), state)),
        };
        if chunk.is_ok() && reader.left > 0 {
            state.next = Some(read_ahead(reader));
        }
        state.taken = Instant::now();
        Some((chunk.map_err(into_io), state))
    }))
}

/// Ends a response stream: hyper then cuts the connection, so the client
/// sees a transfer that failed rather than a complete-looking body.
fn into_io(e: StorageError) -> std::io::Error {
    match e {
        StorageError::Backend(e) => e,
        other => std::io::Error::new(std::io::ErrorKind::InvalidData, other),
    }
}

fn open_file(path: &Path) -> StorageResult<(File, Metadata)> {
    let file = File::open(path).map_err(not_found)?;
    let found = file.metadata()?;
    Ok((file, found))
}

fn not_found(e: std::io::Error) -> StorageError {
    if e.kind() == std::io::ErrorKind::NotFound {
        StorageError::BlobNotFound
    } else {
        StorageError::Backend(e)
    }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> StorageResult<T> + Send + 'static) -> StorageResult<T> {
    tokio::task::spawn_blocking(f).await.map_err(|e| StorageError::Backend(std::io::Error::other(e)))?
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
        tokio::time::advance(super::IDLE_LIMIT - Duration::from_secs(1)).await;
        assert_eq!(stream.next().await.unwrap().unwrap().len(), CHUNK);
        tokio::time::advance(super::IDLE_LIMIT + Duration::from_secs(1)).await;
        let late = stream.next().await.unwrap().expect_err("a late consumer gets an error");
        assert_eq!(late.kind(), std::io::ErrorKind::TimedOut);
        assert!(stream.next().await.is_none());
    }
}

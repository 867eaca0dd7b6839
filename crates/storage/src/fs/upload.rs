//! Appending to and finishing uploads on disk.
//!
//! Bytes arrive on the async side, are gathered into large batches, and
//! each batch is hashed and written by a short blocking task while the next
//! one is received. No thread ever waits on the network: a client that
//! trickles bytes holds a little memory, not a disk thread.
//!
//! The upload's lock guard travels with the open file, so if the request is
//! dropped half way, no other request can touch the upload until the batch
//! being written is on disk.
//!
//! With `fsync`, an append returns only once its bytes are flushed through
//! the descriptor that wrote them, and a failed write or flush undoes the
//! whole append: an upload holds exactly the bytes that were acknowledged.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use berth_core::{Digest, DigestHasher};
use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use tokio::sync::OwnedMutexGuard;
use tokio::task::JoinHandle;

use super::file_ops::FileOps;
use super::hashing::UploadState;
use super::verified::Verified;
use super::writeback::{Writeback, NUDGE_EVERY};
use super::{absent_as, blocking, join_error};
use crate::{ByteStream, StorageError, StorageResult};

/// Bytes gathered from the network before they are handed to a disk write.
const BATCH: usize = 1 << 20;
/// A client that sends nothing for this long is treated as gone, so a
/// stalled upload does not hold its upload lock forever.
pub(super) const IDLE_LIMIT: Duration = Duration::from_secs(60);

fn upload_len(path: &Path) -> StorageResult<u64> {
    std::fs::metadata(path).map(|m| m.len()).map_err(|e| absent_as(e, StorageError::UploadNotFound))
}

/// How uploads reach the disk.
#[derive(Clone)]
pub(super) struct Disk {
    pub(super) ops: Arc<dyn FileOps>,
    pub(super) fsync: bool,
}

/// An upload open for appending, with the hash of everything in it.
struct Sink {
    state: OwnedMutexGuard<UploadState>,
    file: File,
    hasher: DigestHasher,
    /// Size before this append: what an undo goes back to.
    start: u64,
    len: u64,
    writeback: Option<Writeback>,
    since_nudge: u64,
    disk: Disk,
}

impl Sink {
    fn open(
        path: &Path,
        mut state: OwnedMutexGuard<UploadState>,
        offset: Option<u64>,
        disk: Disk,
    ) -> StorageResult<Sink> {
        let size = upload_len(path)?;
        if let Some(offset) = offset.filter(|o| *o != size) {
            return Err(StorageError::OffsetMismatch { size, offset });
        }
        let hasher = state.take_hasher(path, size, berth_core::Algorithm::Sha256)?;
        let file = OpenOptions::new().append(true).open(path)?;
        Ok(Sink { state, file, hasher, start: size, len: size, writeback: None, since_nudge: 0, disk })
    }

    fn write(&mut self, batch: &[u8]) -> std::io::Result<()> {
        self.disk.ops.write(&mut self.file, batch)?;
        self.hasher.update(batch);
        self.len += batch.len() as u64;
        self.since_nudge += batch.len() as u64;
        if self.since_nudge >= NUDGE_EVERY && self.disk.fsync {
            self.since_nudge = 0;
            // Started only for uploads this large, so the many small or
            // slow ones cost no thread.
            if self.writeback.is_none() {
                self.writeback = Some(Writeback::start(&self.file, self.disk.ops.clone())?);
            }
            if let Some(w) = &self.writeback {
                w.nudge();
            }
        }
        Ok(())
    }

    /// Makes the appended bytes durable and remembers the hash that covers
    /// them; on failure, undoes the append. Returns the new size.
    fn seal(mut self) -> StorageResult<u64> {
        let writeback = self.writeback.take().map_or(Ok(()), Writeback::finish);
        let flushed = if self.disk.fsync { writeback.and_then(|()| self.disk.ops.sync(&self.file)) } else { Ok(()) };
        match flushed {
            Ok(()) => {
                self.state.hash = Some((self.len, self.hasher));
                Ok(self.len)
            }
            Err(e) => Err(self.undo(e)),
        }
    }

    /// Cuts the upload back to its size before this append, so a failed
    /// write leaves no unacknowledged bytes behind.
    fn undo(self, cause: std::io::Error) -> StorageError {
        drop(self.writeback);
        if let Err(e) = self.file.set_len(self.start) {
            tracing::error!(error = %e, "could not undo a failed upload write");
        }
        cause.into()
    }
}

/// The sink, either ready or busy writing a batch on a blocking thread.
struct Pipeline {
    ready: Option<Sink>,
    busy: Option<JoinHandle<(Sink, std::io::Result<()>)>>,
}

impl Pipeline {
    /// Waits for the batch in flight, if any, and takes the sink back.
    async fn settle(&mut self) -> StorageResult<Sink> {
        if let Some(busy) = self.busy.take() {
            let (sink, written) = busy.await.map_err(join_error)?;
            if let Err(e) = written {
                return Err(sink.undo(e));
            }
            return Ok(sink);
        }
        Ok(self.ready.take().expect("a pipeline holds its sink when idle"))
    }

    /// Starts writing `batch` once the previous batch is written.
    async fn submit(&mut self, batch: Bytes) -> StorageResult<()> {
        let mut sink = self.settle().await?;
        self.busy = Some(tokio::task::spawn_blocking(move || {
            let written = sink.write(&batch);
            (sink, written)
        }));
        Ok(())
    }

    /// Writes what is left and seals the upload.
    async fn seal(mut self, rest: Bytes) -> StorageResult<u64> {
        if !rest.is_empty() {
            self.submit(rest).await?;
        }
        let sink = self.settle().await?;
        blocking(move || sink.seal()).await
    }
}

pub(super) async fn append(
    path: PathBuf,
    state: OwnedMutexGuard<UploadState>,
    offset: Option<u64>,
    mut body: ByteStream,
    disk: Disk,
) -> StorageResult<u64> {
    let sink = blocking(move || Sink::open(&path, state, offset, disk)).await?;
    let mut pipeline = Pipeline { ready: Some(sink), busy: None };
    let mut batch = BytesMut::new();
    let mut interrupted = None;
    loop {
        let item = match tokio::time::timeout(IDLE_LIMIT, body.next()).await {
            Ok(Some(item)) => item,
            Ok(None) => break,
            Err(_) => Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "no data for 60 seconds")),
        };
        match item {
            Ok(chunk) => {
                batch.extend_from_slice(&chunk);
                if batch.len() >= BATCH {
                    pipeline.submit(batch.split().freeze()).await?;
                }
            }
            Err(e) => {
                interrupted = Some(e);
                break;
            }
        }
    }
    // What arrived before an interruption is kept, durably, for a resume.
    let len = pipeline.seal(batch.freeze()).await?;
    match interrupted {
        Some(source) => Err(StorageError::BodyInterrupted { size: len, source }),
        None => Ok(len),
    }
}

pub(super) async fn finish(
    path: PathBuf,
    mut state: OwnedMutexGuard<UploadState>,
    expected: &Digest,
    target: PathBuf,
    disk: Disk,
    verified: Arc<Verified>,
) -> StorageResult<u64> {
    let expected = expected.clone();
    blocking(move || {
        let size = upload_len(&path)?;
        // A hash kept from this process's appends means their bytes were
        // flushed; bytes from before a restart are flushed here.
        let sealed_here = state.hash.as_ref().is_some_and(|(n, _)| *n == size);
        let actual = state.take_hasher(&path, size, expected.algorithm())?.finish();
        if actual != expected {
            std::fs::remove_file(&path)?;
            return Err(StorageError::DigestMismatch { actual, size });
        }
        if disk.fsync && !sealed_here {
            disk.ops.sync(&File::open(&path)?)?;
        }
        publish(&path, &target, &disk)?;
        // The bytes were hashed as they were written: the first downloads
        // need not hash them again. Only a speed-up: without it they do.
        if let Ok(published) = std::fs::metadata(&target) {
            verified.prove(&expected, &published);
        }
        Ok(size)
    })
    .await
}

/// Moves a verified upload to its blob path. A file already there is
/// replaced: it holds the same content, unless it was damaged, and then
/// this heals it. Readers that opened the old file keep reading it.
fn publish(upload: &Path, target: &Path, disk: &Disk) -> std::io::Result<()> {
    let dir = target.parent().expect("blob paths have a parent");
    create_dirs(dir, disk)?;
    disk.ops.rename(upload, target)?;
    if disk.fsync {
        disk.ops.sync_dir(dir)?;
    }
    Ok(())
}

/// Creates `dir` and missing parents; with `fsync`, makes each new entry
/// durable in its parent so a published blob cannot vanish on power loss.
fn create_dirs(dir: &Path, disk: &Disk) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent() {
        create_dirs(parent, disk)?;
    }
    match std::fs::create_dir(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    if disk.fsync {
        if let Some(parent) = dir.parent() {
            disk.ops.sync_dir(parent)?;
        }
    }
    Ok(())
}

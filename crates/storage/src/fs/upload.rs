//! Appending to and finishing uploads on disk.
//!
//! Bytes arrive on the async side and are handed over a small bounded
//! channel to one blocking thread that hashes and writes them, so network
//! reads, hashing and disk writes overlap while memory stays bounded.
//!
//! The upload's lock guard travels into that thread and is released only
//! when the thread is done: if the request is dropped half way, no other
//! request can touch the file until the last queued byte is written.

use std::fs::OpenOptions;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use berth_core::Digest;
use bytes::Bytes;
use futures::StreamExt;
use tokio::sync::OwnedMutexGuard;

use super::hashing::UploadState;
use super::writeback::{Writeback, NUDGE_EVERY};
use crate::{ByteStream, StorageError, StorageResult};

/// Chunks in flight between the network and the disk writer.
const PIPE_DEPTH: usize = 16;
/// Coalesces small network chunks into large writes.
const WRITE_BUFFER: usize = 1 << 20;
/// A client that sends nothing for this long is treated as gone, so a
/// stalled upload does not hold a disk thread forever.
pub(super) const IDLE_LIMIT: Duration = Duration::from_secs(60);

fn upload_len(path: &Path) -> StorageResult<u64> {
    match std::fs::metadata(path) {
        Ok(m) => Ok(m.len()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(StorageError::UploadNotFound),
        Err(e) => Err(e.into()),
    }
}

fn join_error(e: tokio::task::JoinError) -> StorageError {
    StorageError::Backend(std::io::Error::other(e))
}

pub(super) async fn append(
    path: PathBuf,
    mut state: OwnedMutexGuard<UploadState>,
    offset: Option<u64>,
    mut body: ByteStream,
    fsync: bool,
) -> StorageResult<u64> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Bytes>(PIPE_DEPTH);
    let writer = tokio::task::spawn_blocking(move || -> StorageResult<u64> {
        let size = upload_len(&path)?;
        if let Some(offset) = offset.filter(|o| *o != size) {
            return Err(StorageError::OffsetMismatch { size, offset });
        }
        let mut hasher = state.take_hasher(&path, size, berth_core::Algorithm::Sha256)?;
        let file = OpenOptions::new().append(true).open(&path)?;
        let writeback = if fsync { Some(Writeback::start(&file)?) } else { None };
        let mut out = BufWriter::with_capacity(WRITE_BUFFER, file);
        let mut len = size;
        let mut since_nudge = 0u64;
        let mut written = || -> std::io::Result<()> {
            while let Some(chunk) = rx.blocking_recv() {
                out.write_all(&chunk)?;
                hasher.update(&chunk);
                len += chunk.len() as u64;
                since_nudge += chunk.len() as u64;
                if since_nudge >= NUDGE_EVERY {
                    since_nudge = 0;
                    if let Some(w) = &writeback {
                        w.nudge();
                    }
                }
            }
            out.flush()
        };
        let result = written();
        // Only a hash that covers exactly the bytes on disk may be kept.
        if result.is_ok() {
            state.hash = Some((len, hasher));
        }
        result?;
        Ok(len)
    });

    let mut interrupted = None;
    loop {
        let item = match tokio::time::timeout(IDLE_LIMIT, body.next()).await {
            Ok(Some(item)) => item,
            Ok(None) => break,
            Err(_) => Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "no data for 60 seconds")),
        };
        match item {
            Ok(chunk) if chunk.is_empty() => {}
            Ok(chunk) => {
                if tx.send(chunk).await.is_err() {
                    break; // the writer stopped; its error is reported below
                }
            }
            Err(e) => {
                interrupted = Some(e);
                break;
            }
        }
    }
    drop(tx);
    let len = writer.await.map_err(join_error)??;
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
    fsync: bool,
) -> StorageResult<u64> {
    let expected = expected.clone();
    tokio::task::spawn_blocking(move || {
        let size = upload_len(&path)?;
        let actual = state.take_hasher(&path, size, expected.algorithm())?.finish();
        if actual != expected {
            std::fs::remove_file(&path)?;
            return Err(StorageError::DigestMismatch { actual, size });
        }
        if fsync {
            std::fs::File::open(&path)?.sync_all()?;
        }
        publish(&path, &target, fsync)?;
        Ok(size)
    })
    .await
    .map_err(join_error)?
}

/// Moves a verified upload to its blob path. A blob already there is never
/// replaced (it has the same content), so readers never see it change.
fn publish(upload: &Path, target: &Path, fsync: bool) -> std::io::Result<()> {
    let dir = target.parent().expect("blob paths have a parent");
    create_dirs(dir, fsync)?;
    match std::fs::hard_link(upload, target) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    std::fs::remove_file(upload)?;
    if fsync {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// Creates `dir` and missing parents; with `fsync`, makes each new entry
/// durable in its parent so a published blob cannot vanish on power loss.
fn create_dirs(dir: &Path, fsync: bool) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent() {
        create_dirs(parent, fsync)?;
    }
    match std::fs::create_dir(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e),
    }
    if fsync {
        if let Some(parent) = dir.parent() {
            std::fs::File::open(parent)?.sync_all()?;
        }
    }
    Ok(())
}

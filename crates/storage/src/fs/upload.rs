//! Appending to and finishing uploads on disk.
//!
//! Bytes arrive on the async side and are handed over a small bounded
//! channel to one blocking thread that hashes and writes them, so network
//! reads, hashing and disk writes overlap while memory stays bounded.

use std::fs::OpenOptions;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

use berth_core::{Digest, DigestHasher};
use bytes::Bytes;
use futures::StreamExt;

use super::hashing::UploadState;
use super::writeback::{Writeback, NUDGE_EVERY};
use crate::{ByteStream, StorageError, StorageResult};

/// Chunks in flight between the network and the disk writer.
const PIPE_DEPTH: usize = 16;
/// Coalesces small network chunks into large writes.
const WRITE_BUFFER: usize = 1 << 20;

fn upload_len(path: &std::path::Path) -> StorageResult<u64> {
    match std::fs::metadata(path) {
        Ok(m) => Ok(m.len()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(StorageError::UploadNotFound),
        Err(e) => Err(e.into()),
    }
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> StorageResult<T> + Send + 'static) -> StorageResult<T> {
    tokio::task::spawn_blocking(f).await.map_err(|e| StorageError::Backend(std::io::Error::other(e)))?
}

pub(super) async fn append(
    path: PathBuf,
    state: &mut UploadState,
    offset: u64,
    mut body: ByteStream,
    fsync: bool,
) -> StorageResult<u64> {
    let size = {
        let p = path.clone();
        blocking(move || upload_len(&p)).await?
    };
    if offset != size {
        return Err(StorageError::OffsetMismatch { size, offset });
    }
    let mut cached = std::mem::take(state);
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Bytes>(PIPE_DEPTH);
    let writer = tokio::task::spawn_blocking(move || -> std::io::Result<(u64, DigestHasher)> {
        let mut hasher = cached.take_hasher(&path, size, berth_core::Algorithm::Sha256)?;
        let file = OpenOptions::new().append(true).open(&path)?;
        let writeback = if fsync { Some(Writeback::start(&file)?) } else { None };
        let mut out = BufWriter::with_capacity(WRITE_BUFFER, file);
        let mut len = size;
        let mut since_nudge = 0u64;
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
        out.flush()?;
        Ok((len, hasher))
    });

    let mut interrupted = None;
    while let Some(item) = body.next().await {
        match item {
            Ok(chunk) if chunk.is_empty() => {}
            Ok(chunk) => {
                if tx.send(chunk).await.is_err() {
                    break; // the writer failed; its error is reported below
                }
            }
            Err(e) => {
                interrupted = Some(e);
                break;
            }
        }
    }
    drop(tx);
    let (len, hasher) = writer.await.map_err(|e| StorageError::Backend(std::io::Error::other(e)))??;
    state.hash = Some((len, hasher));
    match interrupted {
        Some(source) => Err(StorageError::BodyInterrupted { size: len, source }),
        None => Ok(len),
    }
}

pub(super) async fn finish(
    path: PathBuf,
    state: &mut UploadState,
    expected: &Digest,
    target: PathBuf,
    fsync: bool,
) -> StorageResult<u64> {
    let mut cached = std::mem::take(state);
    let expected = expected.clone();
    blocking(move || {
        let size = upload_len(&path)?;
        let actual = cached.take_hasher(&path, size, expected.algorithm())?.finish();
        if actual != expected {
            std::fs::remove_file(&path)?;
            return Err(StorageError::DigestMismatch { actual, size });
        }
        if fsync {
            std::fs::File::open(&path)?.sync_all()?;
        }
        let dir = target.parent().expect("blob paths have a parent");
        std::fs::create_dir_all(dir)?;
        std::fs::rename(&path, &target)?;
        if fsync {
            std::fs::File::open(dir)?.sync_all()?;
        }
        Ok(size)
    })
    .await
}

//! Streaming reads of stored blobs.
//!
//! Small blobs are read in one go; large ones by a blocking thread that
//! feeds large chunks through a short channel, which keeps throughput high
//! and memory per download bounded (about `CHUNK * (DEPTH + 1)`). A reader
//! that stops reading for `IDLE_LIMIT` is dropped, freeing the thread.

use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;

use bytes::{Bytes, BytesMut};

use super::upload::IDLE_LIMIT;
use crate::{ByteRange, ByteStream, StorageError, StorageResult};

const CHUNK: usize = 256 * 1024;
const DEPTH: usize = 2;

pub(super) async fn open_stream(path: PathBuf, range: Option<ByteRange>) -> StorageResult<ByteStream> {
    let opened = tokio::task::spawn_blocking(move || -> StorageResult<Opened> {
        let mut file = match std::fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(StorageError::BlobNotFound),
            Err(e) => return Err(e.into()),
        };
        let (start, len) = match range {
            Some(r) => (r.start, r.len()),
            None => (0, file.metadata()?.len()),
        };
        if start > 0 {
            file.seek(SeekFrom::Start(start))?;
        }
        if len <= CHUNK as u64 {
            return Ok(Opened::Whole(read_exact_bytes(&mut file, len as usize)?));
        }
        Ok(Opened::Large(file, len))
    })
    .await
    .map_err(|e| StorageError::Backend(std::io::Error::other(e)))??;

    match opened {
        Opened::Whole(bytes) => Ok(Box::pin(futures::stream::once(async move { Ok(bytes) }))),
        Opened::Large(file, len) => Ok(stream_large(file, len)),
    }
}

enum Opened {
    Whole(Bytes),
    Large(std::fs::File, u64),
}

fn read_exact_bytes(file: &mut std::fs::File, len: usize) -> std::io::Result<Bytes> {
    let mut buf = BytesMut::zeroed(len);
    file.read_exact(&mut buf)?;
    Ok(buf.freeze())
}

fn stream_large(mut file: std::fs::File, len: u64) -> ByteStream {
    let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(DEPTH);
    let runtime = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        let mut left = len;
        while left > 0 {
            let n = left.min(CHUNK as u64) as usize;
            let item = read_exact_bytes(&mut file, n);
            let failed = item.is_err();
            // A client that stops reading releases this thread after a while.
            let sent = runtime.block_on(tokio::time::timeout(IDLE_LIMIT, tx.send(item)));
            if !matches!(sent, Ok(Ok(()))) || failed {
                return; // the client went away or stalled, or the read failed and was reported
            }
            left -= n as u64;
        }
    });
    Box::pin(tokio_stream_from(rx))
}

fn tokio_stream_from(
    mut rx: tokio::sync::mpsc::Receiver<std::io::Result<Bytes>>,
) -> impl futures::Stream<Item = std::io::Result<Bytes>> {
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

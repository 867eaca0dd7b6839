//! The stream of a blob too large to read in one go.
//!
//! Each chunk is read, and hashed while it is still in the CPU cache, by a
//! short task on the blocking pool. The task for the next chunk starts when
//! the consumer takes the current one, so reading overlaps sending (one
//! chunk of read-ahead) and nothing waits on the network while holding a
//! thread: a client that stops reading holds that chunk and an open file,
//! but none of the threads that every other request's disk work needs.
//! A consumer that comes back after more than `IDLE_LIMIT` gets an error
//! instead of more bytes, as an upload that stalls that long does.

use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use futures::{FutureExt, Stream};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::read::Reader;
use super::upload::IDLE_LIMIT;
use crate::{StorageError, StorageResult};

/// A large blob being streamed.
pub(super) struct Chunks {
    /// The read in flight; it hands the reader back.
    next: Option<JoinHandle<(Reader, StorageResult<Bytes>)>>,
    /// When the consumer last took a chunk.
    taken: Instant,
}

impl Chunks {
    pub(super) fn new(reader: Reader) -> Chunks {
        Chunks { next: Some(read_next(reader)), taken: Instant::now() }
    }
}

fn read_next(mut reader: Reader) -> JoinHandle<(Reader, StorageResult<Bytes>)> {
    tokio::task::spawn_blocking(move || {
        let chunk = reader.next_chunk();
        (reader, chunk)
    })
}

impl Stream for Chunks {
    type Item = std::io::Result<Bytes>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        let Some(next) = &mut this.next else { return Poll::Ready(None) };
        if this.taken.elapsed() > IDLE_LIMIT {
            this.next = None;
            let e = std::io::Error::new(std::io::ErrorKind::TimedOut, "client read nothing for 60 seconds");
            return Poll::Ready(Some(Err(e)));
        }
        let done = ready!(next.poll_unpin(cx));
        this.next = None;
        let (reader, chunk) = match done {
            Ok(done) => done,
            Err(e) => return Poll::Ready(Some(Err(std::io::Error::other(e)))),
        };
        if chunk.is_ok() && reader.left > 0 {
            this.next = Some(read_next(reader));
        }
        this.taken = Instant::now();
        Poll::Ready(Some(chunk.map_err(into_io)))
    }
}

/// Ends a response stream: hyper then cuts the connection, so the client
/// sees a transfer that failed rather than a complete-looking body.
fn into_io(e: StorageError) -> std::io::Error {
    match e {
        StorageError::Backend(e) => e,
        other => std::io::Error::new(std::io::ErrorKind::InvalidData, other),
    }
}

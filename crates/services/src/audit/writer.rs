//! The background task that stores audit entries in batches. When the
//! database refuses a batch (a full disk, a lock held too long) the entries
//! are kept and retried with backoff, so a bad spell delays entries rather
//! than losing them or stopping the audit log until a restart.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use berth_meta::{AuditEntry, Meta};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::{entry, Msg};

const BATCH: usize = 512;
const LINGER: Duration = Duration::from_millis(200);
const RETRY_FIRST: Duration = Duration::from_millis(500);
const RETRY_LONGEST: Duration = Duration::from_secs(30);
/// Entries kept in memory while the database refuses them. Beyond this the
/// oldest are dropped, and counted in the log, so memory stays bounded.
const HELD_MAX: usize = 100_000;

/// Entries waiting to be stored, and who waits for them.
struct Backlog {
    held: VecDeque<AuditEntry>,
    waiters: Vec<oneshot::Sender<()>>,
    /// Delay before the next attempt while writes fail.
    retry: Option<Duration>,
    /// Entries stored late or dropped in the current failing spell.
    late: usize,
}

impl Backlog {
    fn take(&mut self, msg: Msg) {
        match msg {
            Msg::Record(e) => self.held.push_back(entry(e)),
            Msg::Flush(w) => self.waiters.push(w),
        }
    }

    fn ready(&self) -> bool {
        !self.waiters.is_empty() || (self.retry.is_none() && self.held.len() >= BATCH)
    }

    /// Stores what is held, a batch at a time, until done or refused.
    async fn write(&mut self, meta: &dyn Meta) {
        while !self.held.is_empty() {
            let n = self.held.len().min(BATCH);
            let batch = &self.held.make_contiguous()[..n];
            match meta.append_audit(batch).await {
                Ok(()) => {
                    self.held.drain(..n);
                    if self.retry.is_some() {
                        self.late += n;
                    }
                }
                Err(e) => {
                    let next = self.retry.map_or(RETRY_FIRST, |d| (d * 2).min(RETRY_LONGEST));
                    tracing::error!(
                        error = %e, held = self.held.len(), retry_in_ms = next.as_millis() as u64,
                        "writing audit entries failed; keeping them to try again"
                    );
                    self.retry = Some(next);
                    self.bound();
                    return;
                }
            }
        }
        if self.retry.take().is_some() {
            tracing::info!(entries = self.late, "audit log writing works again; held entries are stored");
            self.late = 0;
        }
    }

    fn bound(&mut self) {
        if self.held.len() > HELD_MAX {
            let excess = self.held.len() - HELD_MAX;
            self.held.drain(..excess);
            tracing::error!(dropped = excess, "audit entries dropped: the database refused them for too long");
        }
    }

    fn answer_waiters(&mut self) {
        for w in self.waiters.drain(..) {
            let _ = w.send(());
        }
    }
}

/// Runs until every sender is gone, then stores what is left.
pub(super) async fn run(meta: Arc<dyn Meta>, mut rx: mpsc::Receiver<Msg>) {
    let mut backlog = Backlog { held: VecDeque::new(), waiters: Vec::new(), retry: None, late: 0 };
    loop {
        let open = gather(&mut rx, &mut backlog).await;
        backlog.write(meta.as_ref()).await;
        backlog.answer_waiters();
        if !open {
            return;
        }
    }
}

/// Collects messages until a batch is due: `LINGER` after the first one,
/// or when the retry delay ends while writes fail. Returns false once the
/// channel is closed.
async fn gather(rx: &mut mpsc::Receiver<Msg>, backlog: &mut Backlog) -> bool {
    let deadline = match backlog.retry {
        Some(delay) => Instant::now() + delay,
        None => match rx.recv().await {
            Some(first) => {
                backlog.take(first);
                Instant::now() + LINGER
            }
            None => return false,
        },
    };
    while !backlog.ready() {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(msg)) => {
                backlog.take(msg);
                backlog.bound();
            }
            Ok(None) => return false,
            Err(_) => break,
        }
    }
    true
}

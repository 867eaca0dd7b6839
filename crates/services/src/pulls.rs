//! Pull counters: pulls are tallied in memory and added to the database
//! about once a second, so counting adds no write to the pull path. Each
//! node adds its own tallies, so counts stay right with many nodes; a crash
//! loses at most the last second's.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use berth_core::{Digest, RepoName};
use berth_meta::{Meta, PullRecord};

use crate::unix_now;

const FLUSH_EVERY: Duration = Duration::from_secs(1);

type Tally = HashMap<(RepoName, Digest), (u64, i64)>;

/// Counts manifest pulls.
#[derive(Clone)]
pub struct PullCounter {
    tally: Arc<Mutex<Tally>>,
}

impl PullCounter {
    /// Starts the flushing task; it ends when every counter is dropped.
    pub fn start(meta: Arc<dyn Meta>) -> PullCounter {
        let tally = Arc::new(Mutex::new(Tally::new()));
        let weak = Arc::downgrade(&tally);
        tokio::spawn(async move {
            let mut every = tokio::time::interval(FLUSH_EVERY);
            loop {
                every.tick().await;
                let Some(tally) = weak.upgrade() else { return };
                flush(meta.as_ref(), &tally).await;
            }
        });
        PullCounter { tally }
    }

    /// Counts one pull of `digest` from `repo`.
    pub fn count(&self, repo: &RepoName, digest: &Digest) {
        let mut tally = self.tally.lock().unwrap_or_else(|e| e.into_inner());
        let entry = tally.entry((repo.clone(), digest.clone())).or_insert((0, 0));
        entry.0 += 1;
        entry.1 = unix_now();
    }

    /// Writes what has been counted so far.
    pub async fn flush(&self, meta: &dyn Meta) {
        flush(meta, &self.tally).await;
    }
}

async fn flush(meta: &dyn Meta, tally: &Mutex<Tally>) {
    let taken = std::mem::take(&mut *tally.lock().unwrap_or_else(|e| e.into_inner()));
    if taken.is_empty() {
        return;
    }
    let records: Vec<PullRecord> = taken
        .into_iter()
        .map(|((repository, digest), (count, at))| PullRecord { repository, digest, count, at })
        .collect();
    if let Err(e) = meta.record_pulls(&records).await {
        tracing::warn!(error = %e, pulls = records.len(), "recording pull counts failed; keeping them for the next try");
        // Put them back, so a failing database delays counts instead of losing them.
        let mut tally = tally.lock().unwrap_or_else(|e| e.into_inner());
        for r in records {
            let entry = tally.entry((r.repository, r.digest)).or_insert((0, 0));
            entry.0 += r.count;
            entry.1 = entry.1.max(r.at);
        }
    }
}

//! A cap on open connections, so clients cannot use up the file
//! descriptors the server needs for blob files and its database.
//!
//! At the cap the server stops accepting: new connections wait in the
//! kernel's listen backlog and are taken, in order, as others close.
//! Accepting and closing them at once instead would need a descriptor for
//! each (when none may be left), spin under a flood, and turn a short wait
//! that every client survives into an error that every client sees.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Room for a bounded number of open connections.
pub struct ConnectionCap {
    room: Arc<Semaphore>,
    max: usize,
    /// Whether reaching the cap has been logged since room last came back.
    warned: AtomicBool,
}

impl ConnectionCap {
    /// Room for `max` connections.
    pub fn new(max: usize) -> ConnectionCap {
        let max = max.clamp(1, Semaphore::MAX_PERMITS);
        ConnectionCap { room: Arc::new(Semaphore::new(max)), max, warned: AtomicBool::new(false) }
    }

    /// The most connections open at once.
    pub fn max(&self) -> usize {
        self.max
    }

    /// Waits for room for one more connection, which is given back when the
    /// returned permit drops.
    pub async fn admit(&self) -> OwnedSemaphorePermit {
        if self.room.available_permits() == 0 && !self.warned.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                "{} connections open, the most allowed (connections.max_open); new ones wait until others close",
                self.max
            );
        }
        let permit = match self.room.clone().acquire_owned().await {
            Ok(permit) => permit,
            // The semaphore is never closed.
            Err(_) => std::future::pending().await,
        };
        // Warn again only after the pressure has clearly eased.
        if self.room.available_permits() > self.max / 10 {
            self.warned.store(false, Ordering::Relaxed);
        }
        permit
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn admits_up_to_the_cap_then_waits_for_room() {
        let cap = ConnectionCap::new(2);
        let first = cap.admit().await;
        let _second = cap.admit().await;
        let third = tokio::time::timeout(Duration::from_millis(50), cap.admit()).await;
        assert!(third.is_err(), "a third connection was admitted under a cap of 2");
        drop(first);
        let third = tokio::time::timeout(Duration::from_secs(5), cap.admit()).await;
        assert!(third.is_ok(), "no room after a connection closed");
    }
}

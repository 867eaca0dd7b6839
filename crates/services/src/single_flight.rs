//! At most one computation per key at a time: when a cached value expires
//! under load, one request recomputes it while the others wait and then
//! read the fresh value, instead of all recomputing at once.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

/// Per-key gates.
pub(crate) struct SingleFlight<K> {
    gates: Mutex<HashMap<K, Arc<AsyncMutex<()>>>>,
}

/// Held while computing for one key; others wanting the key wait.
pub(crate) struct Turn<'a, K: Eq + Hash + Clone> {
    owner: &'a SingleFlight<K>,
    key: K,
    guard: OwnedMutexGuard<()>,
}

impl<K: Eq + Hash + Clone> SingleFlight<K> {
    pub(crate) fn new() -> Self {
        SingleFlight { gates: Mutex::new(HashMap::new()) }
    }

    /// Waits until no one else holds `key`'s turn, then takes it.
    pub(crate) async fn turn(&self, key: K) -> Turn<'_, K> {
        let gate = {
            let mut gates = self.gates.lock().unwrap_or_else(|e| e.into_inner());
            gates.entry(key.clone()).or_insert_with(|| Arc::new(AsyncMutex::new(()))).clone()
        };
        let guard = gate.lock_owned().await;
        Turn { owner: self, key, guard }
    }
}

impl<K: Eq + Hash + Clone> Drop for Turn<'_, K> {
    fn drop(&mut self) {
        let mut gates = self.owner.gates.lock().unwrap_or_else(|e| e.into_inner());
        // Only the map and this turn hold the gate: nobody is waiting.
        if Arc::strong_count(OwnedMutexGuard::mutex(&self.guard)) <= 2 {
            gates.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test]
    async fn one_computation_per_key_at_a_time_and_gates_are_cleaned_up() {
        let flights = Arc::new(SingleFlight::new());
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let (flights, running, most) = (flights.clone(), running.clone(), most.clone());
            tasks.push(tokio::spawn(async move {
                let _turn = flights.turn("k").await;
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                tokio::task::yield_now().await;
                running.fetch_sub(1, Ordering::SeqCst);
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(most.load(Ordering::SeqCst), 1);
        assert!(flights.gates.lock().unwrap().is_empty());
    }
}

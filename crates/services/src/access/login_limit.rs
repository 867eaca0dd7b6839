//! Throttling password guessing: failed logins are counted per username
//! and per client address; past a limit, further attempts are refused
//! until the window ends. Counters live in memory, per node.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(300);
const PER_USER: u32 = 10;
const PER_ADDRESS: u32 = 30;
/// Bound on tracked keys, so a flood of distinct names cannot grow memory.
const MAX_KEYS: usize = 100_000;

struct Window {
    started: Instant,
    failures: u32,
}

#[derive(Default)]
pub(crate) struct LoginLimiter {
    windows: Mutex<HashMap<String, Window>>,
}

fn user_key(username: &str) -> String {
    format!("u:{}", username.to_lowercase())
}

fn address_key(address: &str) -> String {
    format!("a:{address}")
}

impl LoginLimiter {
    /// `Err(seconds to wait)` when either counter is over its limit.
    pub(crate) fn check(&self, username: &str, address: &str) -> Result<(), u64> {
        let windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        for (key, limit) in [(user_key(username), PER_USER), (address_key(address), PER_ADDRESS)] {
            if let Some(w) = windows.get(&key) {
                let age = w.started.elapsed();
                if age < WINDOW && w.failures >= limit {
                    return Err((WINDOW - age).as_secs().max(1));
                }
            }
        }
        Ok(())
    }

    pub(crate) fn failed(&self, username: &str, address: &str) {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if windows.len() >= MAX_KEYS {
            windows.retain(|_, w| w.started.elapsed() < WINDOW);
            if windows.len() >= MAX_KEYS {
                windows.clear();
            }
        }
        for key in [user_key(username), address_key(address)] {
            let w = windows.entry(key).or_insert(Window { started: Instant::now(), failures: 0 });
            if w.started.elapsed() >= WINDOW {
                *w = Window { started: Instant::now(), failures: 0 };
            }
            w.failures += 1;
        }
    }

    /// A correct password clears the user's counter (not the address's).
    pub(crate) fn succeeded(&self, username: &str) {
        self.windows.lock().unwrap_or_else(|e| e.into_inner()).remove(&user_key(username));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_a_user_after_repeated_failures_and_success_resets() {
        let l = LoginLimiter::default();
        for _ in 0..PER_USER - 1 {
            l.failed("Alice", "10.0.0.1");
        }
        assert!(l.check("alice", "10.0.0.2").is_ok());
        l.failed("alice", "10.0.0.1");
        assert!(l.check("alice", "10.0.0.2").is_err(), "per-user limit applies from any address");
        assert!(l.check("bob", "10.0.0.2").is_ok());
        l.succeeded("alice");
        assert!(l.check("alice", "10.0.0.2").is_ok());
    }

    #[test]
    fn blocks_an_address_that_tries_many_users() {
        let l = LoginLimiter::default();
        for i in 0..PER_ADDRESS {
            l.failed(&format!("user{i}"), "10.9.9.9");
        }
        assert!(l.check("someone-new", "10.9.9.9").is_err());
        assert!(l.check("someone-new", "10.0.0.1").is_ok());
    }
}

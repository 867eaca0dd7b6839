//! Failures counted in fixed windows: the first failure opens a window, the
//! failures inside it add up, and the first failure after it closes opens a
//! new one. Simple to state exactly, and one counter per key.

use std::time::{Duration, Instant};

/// The failures of one window.
#[derive(Clone, Copy, Debug)]
pub(super) struct Window {
    opened: Instant,
    failures: u32,
}

impl Window {
    /// `previous` plus one failure at `now`, in a window `length` long.
    pub(super) fn add(previous: Option<Window>, length: Duration, now: Instant) -> Window {
        match previous {
            Some(w) if now < w.closes(length) => Window { opened: w.opened, failures: w.failures.saturating_add(1) },
            _ => Window { opened: now, failures: 1 },
        }
    }

    /// The failures that count at `now`: none once the window has closed.
    pub(super) fn failures(&self, length: Duration, now: Instant) -> u32 {
        if now < self.closes(length) {
            self.failures
        } else {
            0
        }
    }

    /// When the window closes.
    pub(super) fn closes(&self, length: Duration) -> Instant {
        self.opened + length
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_add_up_inside_the_window_and_start_over_after_it() {
        let (t0, length) = (Instant::now(), Duration::from_secs(60));
        let w = Window::add(None, length, t0);
        let w = Window::add(Some(w), length, t0 + Duration::from_secs(59));
        assert_eq!(w.failures(length, t0 + Duration::from_secs(59)), 2);
        assert_eq!(w.failures(length, t0 + length), 0, "closed a window's length after its first failure");
        let w = Window::add(Some(w), length, t0 + length);
        assert_eq!((w.failures(length, t0 + length), w.closes(length)), (1, t0 + length + length));
    }
}

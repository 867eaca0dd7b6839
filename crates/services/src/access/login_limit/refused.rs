//! The answer to an attempt the throttle will not let through yet.

use std::time::Duration;

use berth_core::Error;

/// How long a refused attempt should wait before trying again.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Refused {
    pub(crate) wait: Duration,
}

/// The wait given while other guesses from the same place are still being
/// checked: long enough for a password check to finish.
const BUSY_WAIT: Duration = Duration::from_secs(1);

impl Refused {
    /// Refused until `wait` has passed.
    pub(super) fn after(wait: Duration) -> Refused {
        Refused { wait }
    }

    /// Refused while other guesses are still being checked.
    pub(super) fn busy() -> Refused {
        Refused { wait: BUSY_WAIT }
    }

    /// Whole seconds to wait, rounded up, never zero (a client told "0"
    /// would retry at once).
    pub(crate) fn seconds(&self) -> u64 {
        (self.wait.as_secs() + u64::from(self.wait.subsec_nanos() > 0)).max(1)
    }
}

impl From<Refused> for Error {
    fn from(refused: Refused) -> Error {
        // One message for every rule: which rule refused is nothing a
        // guesser should learn.
        Error::TooManyRequests(format!("too many failed sign-ins; try again in {} seconds", refused.seconds()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_round_up_to_whole_seconds_and_never_say_zero() {
        let secs = |ms| Refused::after(Duration::from_millis(ms)).seconds();
        assert_eq!((secs(0), secs(1), secs(999), secs(1000), secs(1001), secs(900_000)), (1, 1, 1, 1, 2, 900));
        let message = Error::from(Refused::after(Duration::from_millis(2500))).to_string();
        assert_eq!(message, "too many failed sign-ins; try again in 3 seconds");
    }
}

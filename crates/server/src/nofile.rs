//! The open-file limit: raised as far as the system allows at start, and
//! shared between client connections and everything else.

use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};

/// Descriptors the server needs besides connections: the database, logs,
/// the listener and the like.
const BASE_RESERVE: u64 = 256;

/// Raises the soft `RLIMIT_NOFILE` to the hard limit, and returns the soft
/// limit in force afterwards (`u64::MAX` when unlimited).
///
/// Distributions start services with a soft limit of 1024 and a hard one
/// far above it; a registry serving many clients needs the latter.
pub fn raise_to_hard_limit() -> u64 {
    let limit = getrlimit(Resource::Nofile);
    let Some(current) = limit.current else { return u64::MAX };
    // Linux refuses an unlimited soft limit for open files, so an
    // unlimited hard limit leaves the soft one as it is.
    let Some(maximum) = limit.maximum else { return current };
    if current >= maximum {
        return current;
    }
    match setrlimit(Resource::Nofile, Rlimit { current: Some(maximum), maximum: Some(maximum) }) {
        Ok(()) => {
            tracing::info!(from = current, to = maximum, "raised the open-file limit");
            maximum
        }
        Err(e) => {
            tracing::warn!(error = %e, limit = current, "could not raise the open-file limit");
            current
        }
    }
}

/// How many connections may be open with `nofile` descriptors when up to
/// `transfers` blob transfers, each holding one file, run at once: the
/// limit less a reserve for those files and the server's own, but never
/// less than half the limit.
pub fn connection_budget(nofile: u64, transfers: usize) -> usize {
    let reserve = (transfers as u64).saturating_add(BASE_RESERVE).min(nofile / 2);
    usize::try_from(nofile - reserve).unwrap_or(usize::MAX).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_keeps_descriptors_for_files() {
        assert_eq!(connection_budget(20_000, 512), 20_000 - 768);
        assert_eq!(connection_budget(1_048_576, 512), 1_048_576 - 768);
        // A small limit is split in half rather than left to files alone.
        assert_eq!(connection_budget(1024, 512), 512);
        assert_eq!(connection_budget(1, 512), 1);
        assert!(connection_budget(u64::MAX, 512) > 1 << 40);
    }

    #[test]
    fn the_soft_limit_is_raised_to_the_hard_one() {
        let before = getrlimit(Resource::Nofile);
        let (Some(current), Some(maximum)) = (before.current, before.maximum) else { return };
        // Start one below the hard limit, as a service manager would start us lower.
        let lowered = Rlimit { current: Some(current.min(maximum) - 1), maximum: Some(maximum) };
        setrlimit(Resource::Nofile, lowered).unwrap();
        assert_eq!(raise_to_hard_limit(), maximum);
        assert_eq!(getrlimit(Resource::Nofile).current, Some(maximum));
    }
}

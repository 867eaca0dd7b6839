//! The rules together, on an injected clock.

use std::time::{Duration, Instant};

use sha2::{Digest as _, Sha256};

use super::pair::{delay_after, FREE_FAILURES, MAX_DELAY};
use super::{account, address, history, proven};
use super::{Attempt, LoginLimiter, Pending, TABLE_CAPACITY};

const RIGHT: &str = "Right-Password-1";
const WRONG: &str = "Wrong-Password-1";

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// An attempt by `account` from `address` with `password`.
fn attempt<'a>(account: &'a str, address: &'a str, password: &str) -> Attempt<'a> {
    let mut h = Sha256::new();
    h.update(account.to_lowercase().as_bytes());
    h.update([0]);
    h.update(password.as_bytes());
    Attempt { account, address, credential: h.finalize().into() }
}

fn admitted<'l>(l: &'l LoginLimiter, a: &Attempt<'_>, now: Instant) -> Pending<'l> {
    l.check(a, now).unwrap_or_else(|r| panic!("{} from {} refused for {:?}", a.account, a.address, r.wait))
}

fn fail(l: &LoginLimiter, a: &Attempt<'_>, now: Instant) {
    admitted(l, a, now).failed(now);
}

fn succeed(l: &LoginLimiter, a: &Attempt<'_>, now: Instant) {
    admitted(l, a, now).succeeded(now);
}

/// How long `a` is told to wait at `now`; fails if it is let through.
fn refused(l: &LoginLimiter, a: &Attempt<'_>, now: Instant) -> Duration {
    match l.check(a, now) {
        Ok(_) => panic!("{} from {} let through", a.account, a.address),
        Err(r) => r.wait,
    }
}

/// Fails `a` `n` times, each as soon as the pair's delay allows; returns
/// the time of the last failure.
fn fail_times(l: &LoginLimiter, a: &Attempt<'_>, n: u32, mut now: Instant) -> Instant {
    for i in 0..n {
        if i > 0 {
            now += delay_after(i);
        }
        fail(l, a, now);
    }
    now
}

#[test]
fn the_pair_delay_grows_with_each_failure_and_a_success_resets_it() {
    let (l, t0) = (LoginLimiter::default(), Instant::now());
    let (wrong, right) = (attempt("alice", "10.0.0.1", WRONG), attempt("alice", "10.0.0.1", RIGHT));
    for _ in 0..FREE_FAILURES {
        fail(&l, &wrong, t0);
    }
    let mut now = t0;
    for failures in FREE_FAILURES + 1..=FREE_FAILURES + 12 {
        fail(&l, &wrong, now);
        let delay = delay_after(failures);
        assert_eq!(refused(&l, &wrong, now), delay, "after failure {failures}");
        assert_eq!(refused(&l, &right, now + delay / 2), delay / 2, "the right password is not checked either");
        now += delay;
    }
    assert_eq!(delay_after(FREE_FAILURES + 12), MAX_DELAY, "capped");
    succeed(&l, &right, now);
    for _ in 0..FREE_FAILURES + 1 {
        fail(&l, &wrong, now);
    }
    assert_eq!(refused(&l, &wrong, now), secs(1), "the count started over after the success");
}

#[test]
fn a_pair_is_forgotten_only_a_day_after_its_last_delay() {
    let (l, t0) = (LoginLimiter::default(), Instant::now());
    let wrong = attempt("alice", "10.0.0.1", WRONG);
    let last = fail_times(&l, &wrong, FREE_FAILURES + 3, t0);
    let waited = last + delay_after(FREE_FAILURES + 3) + secs(60);
    fail(&l, &wrong, waited);
    assert_eq!(refused(&l, &wrong, waited), delay_after(FREE_FAILURES + 4), "waiting out a delay resets nothing");
    let next_day = waited + delay_after(FREE_FAILURES + 4) + secs(24 * 3600);
    fail(&l, &wrong, next_day);
    admitted(&l, &wrong, next_day).failed(next_day);
}

#[test]
fn another_address_is_not_slowed_by_one_address_failing_for_the_same_account() {
    let (l, t0) = (LoginLimiter::default(), Instant::now());
    let now = fail_times(&l, &attempt("Admin", "10.0.0.1", WRONG), 15, t0);
    assert!(refused(&l, &attempt("admin", "10.0.0.1", RIGHT), now) > secs(60));
    succeed(&l, &attempt("admin", "10.0.0.2", RIGHT), now);
    fail(&l, &attempt("admin", "10.0.0.3", WRONG), now);
}

#[test]
fn the_address_ceiling_refuses_new_credentials_but_not_a_proven_one() {
    let (l, t0) = (LoginLimiter::default(), Instant::now());
    let office = "192.0.2.1";
    succeed(&l, &attempt("alice", office, RIGHT), t0);
    for i in 0..address::CEILING {
        fail(&l, &attempt(&format!("user{i}"), office, WRONG), t0 + secs(60));
    }
    let now = t0 + secs(120);
    let closes = t0 + secs(60) + address::WINDOW;
    assert_eq!(refused(&l, &attempt("someone-new", office, WRONG), now), closes - now);
    assert_eq!(refused(&l, &attempt("bob", office, RIGHT), now), closes - now, "not proven from here");
    assert_eq!(refused(&l, &attempt("alice", office, WRONG), now), closes - now, "another password is a guess");
    succeed(&l, &attempt("alice", office, RIGHT), now);
    succeed(&l, &attempt("bob", "192.0.2.2", RIGHT), now);
    succeed(&l, &attempt("bob", office, RIGHT), closes);
}

#[test]
fn a_proven_credential_passes_for_a_day_and_is_forgotten_once_it_fails() {
    let (l, t0) = (LoginLimiter::default(), Instant::now());
    let office = "192.0.2.1";
    let (alice, carol) = (attempt("alice", office, RIGHT), attempt("carol", office, RIGHT));
    succeed(&l, &alice, t0);
    succeed(&l, &carol, t0);
    let late = t0 + proven::PROVEN_FOR - secs(1);
    for i in 0..address::CEILING {
        fail(&l, &attempt(&format!("user{i}"), office, WRONG), late);
    }
    // Let through, though the check ended without an answer to remember.
    drop(admitted(&l, &alice, late));
    // Carol's password was changed meanwhile: her old one fails once...
    admitted(&l, &carol, late).failed(late);
    // ...and then is an ordinary guess again.
    assert!(refused(&l, &carol, late) > Duration::ZERO);
    let next_day = t0 + proven::PROVEN_FOR + secs(1);
    assert!(refused(&l, &alice, next_day) > Duration::ZERO, "proven a day ago and not since");
}

#[test]
fn a_distributed_attack_slows_new_addresses_but_not_familiar_ones() {
    let (l, t0) = (LoginLimiter::default(), Instant::now());
    succeed(&l, &attempt("admin", "10.1.0.1", RIGHT), t0);
    let now = t0 + secs(3600);
    let mut answers = Vec::new();
    for i in 0..60 {
        let address = format!("10.2.0.{i}");
        let guess = attempt("admin", &address, WRONG);
        answers.push(l.check(&guess, now).map(|pending| pending.failed(now)).map_err(|r| r.wait));
    }
    let through = account::UNDER_ATTACK as usize + 1;
    assert!(answers[..through].iter().all(Result::is_ok), "{answers:?}");
    assert!(answers[through..].iter().all(|a| *a == Err(account::SLOW_LANE)), "{answers:?}");

    for _ in 0..3 {
        succeed(&l, &attempt("Admin", "10.1.0.1", RIGHT), now);
    }
    fail(&l, &attempt("admin", "10.1.0.1", WRONG), now);

    let newcomer = attempt("admin", "10.3.0.1", RIGHT);
    assert_eq!(refused(&l, &newcomer, now), account::SLOW_LANE, "the right password waits its turn");
    succeed(&l, &newcomer, now + account::SLOW_LANE);
    succeed(&l, &newcomer, now + account::SLOW_LANE);
    assert_eq!(refused(&l, &attempt("admin", "10.3.0.2", RIGHT), now + account::SLOW_LANE), account::SLOW_LANE);
    succeed(&l, &attempt("bob", "10.3.0.2", RIGHT), now + account::SLOW_LANE);

    let over = now + account::WINDOW;
    succeed(&l, &attempt("admin", "10.3.0.2", RIGHT), over);
    fail(&l, &attempt("admin", "10.3.0.3", WRONG), over);
}

#[test]
fn a_familiar_address_is_forgotten_after_thirty_days() {
    let (l, t0) = (LoginLimiter::default(), Instant::now());
    let home = attempt("admin", "10.1.0.1", RIGHT);
    succeed(&l, &home, t0);
    let later = t0 + history::GOOD_FOR;
    for i in 0..account::UNDER_ATTACK + 1 {
        fail(&l, &attempt("admin", &format!("10.2.0.{i}"), WRONG), later);
    }
    assert_eq!(refused(&l, &home, later), account::SLOW_LANE);
}

#[test]
fn parallel_guesses_cannot_outrun_the_counters() {
    let (l, t0) = (LoginLimiter::default(), Instant::now());
    let guess = |n: u32, address: &'static str| attempt("alice", address, &format!("Guess-{n}"));
    let guesses: Vec<Attempt<'_>> = (0..FREE_FAILURES).map(|n| guess(n, "10.0.0.1")).collect();
    let in_flight: Vec<Pending<'_>> = guesses.iter().map(|g| admitted(&l, g, t0)).collect();
    // A sixth distinct guess is held back, a repeat of one in flight is not.
    assert_eq!(refused(&l, &guess(99, "10.0.0.1"), t0), secs(1), "no sixth distinct guess while five are checked");
    let joined = admitted(&l, &guesses[0], t0);
    in_flight.into_iter().for_each(|p| p.failed(t0));
    joined.failed(t0);
    assert_eq!(refused(&l, &guess(99, "10.0.0.1"), t0), delay_after(FREE_FAILURES + 1));
    let after = t0 + delay_after(FREE_FAILURES + 1);
    let first = admitted(&l, &guess(100, "10.0.0.1"), after);
    assert_eq!(refused(&l, &guess(101, "10.0.0.1"), after), secs(1), "past the free failures, one at a time");
    first.failed(after);

    // As many names in flight from one address as its ceiling allows...
    let names: Vec<String> = (0..address::CEILING).map(|i| format!("user{i}")).collect();
    let flood: Vec<Pending<'_>> = names.iter().map(|n| admitted(&l, &attempt(n, "10.9.0.1", WRONG), t0)).collect();
    assert_eq!(refused(&l, &attempt("one-more", "10.9.0.1", WRONG), t0), secs(1));
    drop(flood);
    fail(&l, &attempt("one-more", "10.9.0.1", WRONG), t0);

    // ...and as many guesses at one account from as many addresses: the
    // next one takes the slow lane's turn before any failure was counted.

    let addresses: Vec<String> = (0..account::UNDER_ATTACK).map(|i| format!("10.4.0.{i}")).collect();
    let spread: Vec<Pending<'_>> = addresses.iter().map(|a| admitted(&l, &attempt("carol", a, WRONG), t0)).collect();
    fail(&l, &attempt("carol", "10.5.0.1", WRONG), t0);
    assert_eq!(refused(&l, &attempt("carol", "10.5.0.2", WRONG), t0), account::SLOW_LANE);
    drop(spread);
}

#[test]
fn an_attempt_dropped_unsettled_counts_as_nothing() {
    let (l, t0) = (LoginLimiter::default(), Instant::now());
    let wrong = attempt("alice", "10.0.0.1", WRONG);
    for _ in 0..50 {
        drop(admitted(&l, &wrong, t0));
    }
    assert!(l.lock().checking.is_empty());
    for _ in 0..FREE_FAILURES {
        fail(&l, &wrong, t0);
    }
}

#[test]
fn memory_stays_bounded_under_a_flood_of_names_and_addresses() {
    let (l, t0) = (LoginLimiter::default(), Instant::now());
    let attacker = attempt("admin", "10.0.0.1", WRONG);
    let mut now = fail_times(&l, &attacker, FREE_FAILURES + 10, t0);
    succeed(&l, &attempt("admin", "10.1.0.1", RIGHT), now);
    let flood = 3 * TABLE_CAPACITY as u32;
    for i in 0..flood {
        let address = format!("10.{}.{}.{}", 100 + (i >> 16), (i >> 8) & 255, i & 255);
        let name = format!("name-{i}");
        fail(&l, &attempt(&name, &address, WRONG), now);
        if i % 2 == 0 {
            succeed(&l, &attempt(&name, &address, RIGHT), now);
        }
        if i % 1000 == 0 {
            // The guesser keeps coming back, as a guesser does.
            assert!(refused(&l, &attacker, now) > secs(60));
            now += secs(1);
        }
    }
    assert!(l.sizes().iter().all(|&n| n <= TABLE_CAPACITY), "{:?}", l.sizes());
    assert!(refused(&l, &attacker, now) > secs(60), "the entry in use survived the flood");
    assert!(l.lock().checking.is_empty());
}

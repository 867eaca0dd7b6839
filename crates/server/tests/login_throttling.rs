//! Login throttling that cannot be turned against users, against a real
//! `berth` process. Clients pick their source address on the loopback
//! network (127.0.0.2, 127.0.0.3 …), so one test plays a guesser, the
//! owner elsewhere, an office behind one address and a botnet at once.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use berth_testkit::oci_http::*;
use berth_testkit::{Berth, ADMIN_PASSWORD, ADMIN_USER};
use reqwest::{Method, Response};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_berth");
const PASSWORD: &str = "Throttle-Test-1";
const WRONG: &str = "Wrong-Password-1";
/// Failures per account and address before any delay.
const FREE_FAILURES: usize = 5;
/// Failures from one address, across accounts, that fill its window.
const ADDRESS_CEILING: usize = 100;
/// Failures for one account that put it under attack.
const UNDER_ATTACK: usize = 20;
/// Under attack, unfamiliar addresses share one attempt per this long.
const SLOW_LANE: Duration = Duration::from_secs(5);

/// HTTP requests from one source address.
struct Origin {
    http: reqwest::Client,
    base: String,
}

impl Origin {
    fn new(berth: &Berth, address: &str) -> Origin {
        let http = reqwest::Client::builder()
            .local_address(address.parse::<IpAddr>().expect("an IP address"))
            .pool_max_idle_per_host(0)
            .connect_timeout(Duration::from_secs(5))
            .build()
            .expect("http client");
        Origin { http, base: berth.url.clone() }
    }

    async fn get(&self, path: &str, (user, password): (&str, &str)) -> Response {
        let req = self.http.request(Method::GET, format!("{}{path}", self.base)).basic_auth(user, Some(password));
        req.send().await.expect("request failed at the transport level")
    }

    /// `GET /api/v2.0/users/current` with these credentials.
    async fn current_user(&self, credentials: (&str, &str)) -> Response {
        self.get("/api/v2.0/users/current", credentials).await
    }

    /// `docker login`'s request: a token without a scope.
    async fn token(&self, credentials: (&str, &str)) -> Response {
        self.get("/service/token?service=berth-registry", credentials).await
    }

    /// Asserts that these credentials sign in on the management API and get
    /// a registry token.
    async fn signs_in(&self, (user, password): (&str, &str)) {
        let me: Value = expect_status(self.current_user((user, password)).await, 200).await.json().await.unwrap();
        assert_eq!(me["username"], user, "{me}");
        let token: Value = expect_status(self.token((user, password)).await, 200).await.json().await.unwrap();
        assert!(token["token"].as_str().is_some_and(|t| !t.is_empty()), "{token}");
    }
}

/// Asserts a 429 with the API's error code and a message saying how long
/// to wait.
async fn expect_throttled(resp: Response, context: &str) {
    assert_eq!(status(&resp), 429, "{context}");
    let code = if resp.url().path().starts_with("/api/v2.0/") { "TOO_MANY_REQUESTS" } else { "TOOMANYREQUESTS" };
    let message = expect_error(resp, &[429], &[code]).await.errors.remove(0).message;
    assert!(message.contains("try again in") && message.contains("seconds"), "{context}: {message}");
}

async fn create_user(berth: &Berth, name: &str) {
    OciClient::new(&berth.url).add_user(name, PASSWORD).await;
}

#[tokio::test]
async fn repeated_wrong_passwords_slow_down_that_user_from_that_address() {
    let berth = Berth::start(BIN).unwrap();
    create_user(&berth, "alice").await;
    create_user(&berth, "bob").await;
    let here = Origin::new(&berth, "127.0.0.1");
    for attempt in 1..=FREE_FAILURES + 1 {
        let resp = here.token(("alice", WRONG)).await;
        assert_eq!(status(&resp), 401, "wrong password, attempt {attempt}: five are free, the sixth starts a delay");
    }
    // The delay starts at one second and doubles with each failure, so a
    // try soon lands inside one, however slow this machine.
    let mut tries = Vec::new();
    while tries.last() != Some(&429) && tries.len() < 8 {
        tries.push(status(&here.token(("alice", WRONG)).await));
    }
    assert_eq!(tries.last(), Some(&429), "{tries:?}");
    expect_throttled(here.token(("alice", PASSWORD)).await, "the right password inside the delay is not checked").await;
    expect_throttled(here.get("/v2/", ("alice", PASSWORD)).await, "Basic auth on /v2/ is throttled too").await;
    here.signs_in(("bob", PASSWORD)).await;
}

#[tokio::test]
async fn wrong_passwords_from_one_address_do_not_lock_the_admin_out_elsewhere() {
    let berth = Berth::start(BIN).unwrap();
    let guesser = Origin::new(&berth, "127.0.0.2");
    for attempt in 1..=FREE_FAILURES + 1 {
        let resp = guesser.current_user((ADMIN_USER, WRONG)).await;
        assert_eq!(status(&resp), 401, "wrong password {attempt}: the free failures, then the one that starts a delay");
    }
    // Each further failure doubles the delay from one second, so within a
    // few more tries one lands inside its delay, however slow this machine.
    let mut tries = Vec::new();
    while tries.last() != Some(&429) && tries.len() < 8 {
        tries.push(status(&guesser.current_user((ADMIN_USER, WRONG)).await));
    }
    assert_eq!(tries.last(), Some(&429), "further wrong passwords are refused for a while: {tries:?}");
    expect_throttled(guesser.current_user((ADMIN_USER, ADMIN_PASSWORD)).await, "even the right one, unchecked").await;

    Origin::new(&berth, "127.0.0.3").signs_in((ADMIN_USER, ADMIN_PASSWORD)).await;
}

#[tokio::test]
async fn a_credential_proven_from_an_address_keeps_working_after_its_ceiling() {
    let berth = Berth::start(BIN).unwrap();
    create_user(&berth, "alice").await;
    create_user(&berth, "bob").await;
    let office = Origin::new(&berth, "127.0.0.4");
    office.signs_in(("alice", PASSWORD)).await;

    for i in 0..ADDRESS_CEILING {
        let resp = office.current_user((&format!("nobody-{i}"), WRONG)).await;
        assert_eq!(status(&resp), 401, "failure {i} from the office");
    }
    expect_throttled(office.current_user(("nobody-else", WRONG)).await, "past the ceiling").await;
    expect_throttled(office.current_user(("bob", PASSWORD)).await, "bob never signed in from here").await;
    expect_throttled(office.token((ADMIN_USER, ADMIN_PASSWORD)).await, "nor did the admin").await;
    expect_throttled(office.current_user(("alice", WRONG)).await, "another password is a guess").await;
    office.signs_in(("alice", PASSWORD)).await;

    Origin::new(&berth, "127.0.0.5").signs_in(("bob", PASSWORD)).await;
}

#[tokio::test]
async fn a_distributed_guesser_is_slowed_while_the_admin_signs_in_from_a_familiar_address() {
    let berth = Berth::start(BIN).unwrap();
    let home = Origin::new(&berth, "127.0.0.3");
    home.signs_in((ADMIN_USER, ADMIN_PASSWORD)).await;

    let mut statuses = Vec::new();
    let mut lane_opened = None;
    for i in 1..=60 {
        if statuses.len() == UNDER_ATTACK {
            lane_opened = Some(Instant::now());
        }
        let resp = Origin::new(&berth, &format!("127.0.1.{i}")).current_user((ADMIN_USER, WRONG)).await;
        statuses.push(status(&resp));
    }
    let lane_time = lane_opened.expect("more attempts than the threshold").elapsed();
    let (counted, rest) = statuses.split_at(UNDER_ATTACK + 1);
    assert!(counted.iter().all(|&s| s == 401), "the threshold and the slow lane's first turn: {statuses:?}");
    assert!(rest.iter().all(|&s| s == 401 || s == 429), "{statuses:?}");
    let admitted = rest.iter().filter(|&&s| s == 401).count() as u64;
    // The lane's first turn went to attempt 21, each further one comes a
    // full SLOW_LANE later; a slower run only allows more turns.
    let turns = lane_time.as_secs() / SLOW_LANE.as_secs();
    assert!(admitted <= turns, "{admitted} more guesses checked in {lane_time:?}: {statuses:?}");
    assert!(rest.contains(&429), "a distributed guesser is refused beyond the slow lane: {statuses:?}");

    home.signs_in((ADMIN_USER, ADMIN_PASSWORD)).await;
}

//! Closing connections that carry no request: ones that never complete a
//! first request (nothing sent, only an HTTP/2 preface, half a request
//! line) and idle keep-alive ones.
//!
//! hyper times HTTP/1 request headers only once it knows the protocol: the
//! protocol sniffing before that waits for bytes forever, and HTTP/2 has no
//! such timer at all. So each connection counts its requests in progress
//! (until their response bodies are sent or dropped, since a blob download
//! outlives its handler), and is closed once it has had none for long
//! enough.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use http_body_util::BodyExt;
use tokio::sync::watch;
use tokio::time::Instant;

/// How long a connection asked to close (an HTTP/2 client sent GOAWAY) may
/// stay open with no request in progress before it is dropped; a client
/// that ignores the request would otherwise keep it.
const LINGER: Duration = Duration::from_secs(5);

/// How long a connection may carry no request.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// From accepting the connection until its first request arrives.
    pub first_request: Duration,
    /// From the end of one request until the next arrives.
    pub idle: Duration,
}

/// What a connection is doing.
#[derive(Debug, Clone, Copy)]
pub struct State {
    in_flight: usize,
    /// When `in_flight` last dropped to zero, or the connection was accepted.
    since: Instant,
    served: bool,
}

impl State {
    /// When the connection has been quiet too long, if it is quiet now.
    fn deadline(&self, t: Timeouts) -> Option<Instant> {
        let allowed = if self.served { t.idle } else { t.first_request };
        (self.in_flight == 0).then(|| self.since + allowed)
    }
}

/// Counts one connection's requests in progress.
#[derive(Clone)]
pub struct Activity(Arc<watch::Sender<State>>);

impl Activity {
    /// A new connection's activity, and the receiver that watches it.
    pub fn new() -> (Activity, watch::Receiver<State>) {
        let (tx, rx) = watch::channel(State { in_flight: 0, since: Instant::now(), served: false });
        (Activity(Arc::new(tx)), rx)
    }

    /// Marks a request as begun; it lasts until the returned value drops.
    pub fn begin(&self) -> Busy {
        self.0.send_modify(|s| s.in_flight += 1);
        Busy(self.0.clone())
    }
}

/// A request in progress on a connection.
pub struct Busy(Arc<watch::Sender<State>>);

impl Busy {
    /// `body`, keeping the request in progress until it is sent or dropped.
    pub fn hold(self, body: Body) -> Body {
        // The closure owns `self`, so it drops with the body.
        Body::new(body.map_frame(move |frame| {
            let _busy = &self;
            frame
        }))
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.send_modify(|s| {
            s.in_flight -= 1;
            s.served = true;
            if s.in_flight == 0 {
                s.since = Instant::now();
            }
        });
    }
}

/// Resolves once `deadline` (given the connection's state) has passed
/// with the state unchanged.
async fn quiet(activity: &mut watch::Receiver<State>, deadline: impl Fn(&State) -> Option<Instant>) {
    loop {
        let due = deadline(&activity.borrow_and_update());
        tokio::select! {
            _ = sleep_until(due) => return,
            changed = activity.changed() => {
                if changed.is_err() {
                    // Nothing changes any more: the last deadline stands.
                    let last = deadline(&activity.borrow());
                    return sleep_until(last).await;
                }
            }
        }
    }
}

/// Sleeps until `due`, or forever without one.
async fn sleep_until(due: Option<Instant>) {
    match due {
        Some(due) => tokio::time::sleep_until(due).await,
        None => std::future::pending().await,
    }
}

/// Drives `conn` to its end, or drops it (`None`). A connection that has
/// not completed a first request in time is dropped; one that has served
/// requests is asked to close (`close`) once it has been idle for its
/// timeout, or when `shutdown` changes, and dropped if it is still open
/// and quiet `LINGER` after that.
pub async fn drive<C: Future>(
    conn: C,
    close: impl Fn(Pin<&mut C>),
    mut activity: watch::Receiver<State>,
    timeouts: Timeouts,
    mut shutdown: watch::Receiver<()>,
) -> Option<C::Output> {
    tokio::pin!(conn);
    tokio::select! {
        done = conn.as_mut() => return Some(done),
        _ = shutdown.changed() => {}
        _ = quiet(&mut activity, |s| s.deadline(timeouts)) => {
            if !activity.borrow().served {
                // Nothing was ever asked on it, so no answer can be lost
                // and no client is owed a graceful close.
                return None;
            }
        }
    }
    close(conn.as_mut());
    let asked = Instant::now();
    tokio::select! {
        done = conn => Some(done),
        _ = quiet(&mut activity, |s| (s.in_flight == 0).then(|| s.since.max(asked) + LINGER)) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Timeouts = Timeouts { first_request: Duration::from_secs(3), idle: Duration::from_secs(10) };

    #[tokio::test(start_paused = true)]
    async fn quiet_counts_from_the_last_request() {
        let (activity, mut rx) = Activity::new();
        let start = Instant::now();
        let busy = activity.begin();
        let watcher = tokio::spawn(async move {
            quiet(&mut rx, |s| s.deadline(T)).await;
            Instant::now()
        });
        // A request in progress is never quiet, however long it takes.
        tokio::time::sleep(Duration::from_secs(60)).await;
        assert!(!watcher.is_finished());
        drop(busy);
        let closed = watcher.await.unwrap();
        assert_eq!(closed - start, Duration::from_secs(60) + T.idle);
    }

    #[tokio::test(start_paused = true)]
    async fn a_connection_without_a_request_gets_the_first_request_timeout() {
        let (_activity, mut rx) = Activity::new();
        let start = Instant::now();
        quiet(&mut rx, |s| s.deadline(T)).await;
        assert_eq!(Instant::now() - start, T.first_request);
    }

    #[tokio::test(start_paused = true)]
    async fn a_held_body_keeps_the_request_in_progress() {
        let (activity, mut rx) = Activity::new();
        let body = activity.begin().hold(Body::from("blob"));
        assert_eq!(rx.borrow_and_update().in_flight, 1);
        drop(body);
        assert_eq!(rx.borrow().in_flight, 0);
        assert!(rx.borrow().served);
    }
}

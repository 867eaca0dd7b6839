//! Accepting connections and serving HTTP on them, with the limits a
//! public-facing server needs and a bounded graceful shutdown.

use std::convert::Infallible;
use std::future::Future;
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt;

use crate::connection_cap::ConnectionCap;
use crate::connection_idle::{self, Activity, Timeouts};

/// HTTP/2 pings on every connection: a peer that vanished without closing
/// (a dead NAT entry, a pulled cable) stops answering them and its
/// connection is dropped, even in the middle of a transfer.
const PING_INTERVAL: Duration = Duration::from_secs(30);
const PING_TIMEOUT: Duration = Duration::from_secs(20);

/// What limits connections.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// A request's headers must arrive within this: counted from accepting
    /// the connection for the first request (HTTP/1 and HTTP/2), and on
    /// HTTP/1 from the end of the previous response for the next one.
    pub request_header: Duration,
    /// A connection with no request in progress closes after this.
    pub idle: Duration,
    /// The most connections open at once.
    pub max_open: usize,
}

/// Serves `app` on `listener` until `shutdown` completes, then waits up to
/// `grace` for requests in flight to finish.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
    grace: Duration,
) {
    let mut builder = Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new()).header_read_timeout(limits.request_header);
    builder.http2().timer(TokioTimer::new()).keep_alive_interval(PING_INTERVAL).keep_alive_timeout(PING_TIMEOUT);
    let timeouts = Timeouts { first_request: limits.request_header, idle: limits.idle };
    let cap = ConnectionCap::new(limits.max_open);
    tracing::info!(max_open = cap.max(), idle_seconds = limits.idle.as_secs(), "connection limits");
    // Each connection holds a receiver; all are gone once every connection ended.
    let (closing, connections) = watch::channel(());
    tokio::pin!(shutdown);
    loop {
        let room = tokio::select! {
            room = cap.admit() => room,
            _ = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    // Typically out of file descriptors: wait rather than spin.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let (activity, watched) = Activity::new();
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut req: http::Request<Incoming>| {
            // Handlers read the client's address (audit, throttling, limits) from here.
            req.extensions_mut().insert(ConnectInfo(peer));
            let busy = activity.begin();
            let answer = app.clone().oneshot(req);
            async move { Ok::<_, Infallible>(answer.await?.map(|body| busy.hold(body))) }
        });
        let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service).into_owned();
        let closing = connections.clone();
        tokio::spawn(async move {
            let ended = connection_idle::drive(connection, |c| c.graceful_shutdown(), watched, timeouts, closing).await;
            match ended {
                Some(Err(e)) => tracing::debug!(error = %e, "connection ended with an error"),
                None => {
                    tracing::debug!(%peer, "dropped a connection: no request in time, or deaf to a request to close")
                }
                Some(Ok(())) => {}
            }
            drop(room);
        });
    }
    drop(listener);
    drop(connections);
    let _ = closing.send(());
    tokio::select! {
        _ = closing.closed() => {}
        _ = tokio::time::sleep(grace) => {
            tracing::warn!("requests still running after {} s; stopping anyway", grace.as_secs());
        }
    }
}

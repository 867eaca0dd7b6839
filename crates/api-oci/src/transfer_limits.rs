//! Limits on blob transfers in progress, per client address and in all, so
//! clients that trickle upload bodies or read downloads slowly cannot hold
//! every connection, open file and disk thread. A transfer is a blob `GET`
//! or an upload request with a body (`POST`, `PATCH`, `PUT`); it lasts
//! until its response body is sent and its request body consumed, or
//! either is dropped, not merely until the handler returns.

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex, PoisonError};

use axum::body::{Body, HttpBody};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, Method};
use http_body_util::BodyExt;

use crate::client;
use crate::error::ApiError;
use crate::headers::API_VERSION;
use crate::route::Route;

/// How long a refused client is asked to wait: transfers end at no
/// predictable time, and a layer takes seconds.
const RETRY_AFTER_SECONDS: u64 = 10;

/// The limits and the transfers in progress, shared by all requests.
#[derive(Clone)]
pub struct TransferLimits(Arc<Shared>);

struct Shared {
    per_client: usize,
    total: usize,
    open: Mutex<Open>,
}

#[derive(Default)]
struct Open {
    total: usize,
    by_client: HashMap<Client, usize>,
}

/// Whom a per-client limit counts: an address, where an IPv6 client counts
/// by its /64, which one host commonly holds whole. `None` stands for
/// requests that did not come off a network connection.
type Client = Option<IpAddr>;

fn client_of(ip: Option<IpAddr>) -> Client {
    ip.map(|ip| match ip {
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !((1u128 << 64) - 1))),
        v4 => v4,
    })
}

/// Why a transfer may not start.
#[derive(Debug)]
pub(crate) enum Refusal {
    /// The client already has `limit` transfers in progress.
    Client { limit: usize },
    /// The server already has `limit` transfers in progress.
    Server { limit: usize },
}

impl Refusal {
    /// Seconds the client should wait before trying again.
    pub(crate) fn retry_after(&self) -> u64 {
        RETRY_AFTER_SECONDS
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Client { limit } => write!(
                f,
                "too many transfers: this client already has {limit} blob downloads or uploads in progress, \
                 the most one client may have at once; retry when one has finished"
            ),
            Refusal::Server { limit } => write!(
                f,
                "too many transfers: the registry already has {limit} blob downloads or uploads in progress, \
                 the most it runs at once; retry shortly"
            ),
        }
    }
}

/// A transfer in progress; it ends when this drops.
struct Slot {
    shared: Arc<Shared>,
    client: Client,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.shared.open.lock().unwrap_or_else(PoisonError::into_inner);
        open.total -= 1;
        if let Some(n) = open.by_client.get_mut(&self.client) {
            *n -= 1;
            if *n == 0 {
                open.by_client.remove(&self.client);
            }
        }
    }
}

impl TransferLimits {
    /// At most `per_client` transfers per client address and `total` in all.
    pub fn new(per_client: usize, total: usize) -> TransferLimits {
        TransferLimits(Arc::new(Shared { per_client, total, open: Mutex::default() }))
    }

    fn begin(&self, client: Client) -> Result<Slot, Refusal> {
        let shared = &self.0;
        let mut open = shared.open.lock().unwrap_or_else(PoisonError::into_inner);
        let of_client = open.by_client.get(&client).copied().unwrap_or(0);
        if of_client >= shared.per_client {
            return Err(Refusal::Client { limit: shared.per_client });
        }
        if open.total >= shared.total {
            return Err(Refusal::Server { limit: shared.total });
        }
        open.total += 1;
        *open.by_client.entry(client).or_insert(0) += 1;
        Ok(Slot { shared: shared.clone(), client })
    }
}

/// Whether `request` is a transfer.
fn is_transfer(request: &Request) -> bool {
    let Ok(Some(route)) = Route::from_path(request.uri().path()) else { return false };
    let m = request.method();
    match route {
        Route::Blob(..) => m == Method::GET,
        Route::UploadStart(_) | Route::Upload(..) => {
            (m == Method::POST || m == Method::PATCH || m == Method::PUT) && !request.body().is_end_stream()
        }
        Route::Base
        | Route::Catalog
        | Route::Tags(_)
        | Route::Manifest(..)
        | Route::ImpossibleManifest(..)
        | Route::ImpossibleBlob(..)
        | Route::Referrers(..) => false,
    }
}

/// `body`, keeping `slot` until it is consumed or dropped.
fn holding(body: Body, slot: Arc<Slot>) -> Body {
    // The closure owns the slot, so it drops with the body.
    Body::new(body.map_frame(move |frame| {
        let _slot = &slot;
        frame
    }))
}

/// Middleware: starts a transfer, or answers 429 with `Retry-After`.
pub(crate) async fn limit(State(limits): State<TransferLimits>, request: Request, next: Next) -> Response {
    if !is_transfer(&request) {
        return next.run(request).await;
    }
    let slot = match limits.begin(client_of(client::ip(request.extensions()))) {
        Ok(slot) => Arc::new(slot),
        Err(refusal) => {
            let mut resp = ApiError::TooManyTransfers(refusal).into_response();
            resp.headers_mut().insert(API_VERSION, HeaderValue::from_static("registry/2.0"));
            return resp;
        }
    };
    let request = request.map(|body| holding(body, slot.clone()));
    next.run(request).await.map(|body| holding(body, slot))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Client {
        client_of(Some(s.parse().unwrap()))
    }

    #[test]
    fn each_client_has_its_own_limit_within_the_total() {
        let limits = TransferLimits::new(2, 3);
        let a1 = limits.begin(ip("10.0.0.1")).unwrap();
        let _a2 = limits.begin(ip("10.0.0.1")).unwrap();
        assert!(matches!(limits.begin(ip("10.0.0.1")), Err(Refusal::Client { limit: 2 })));
        let _b1 = limits.begin(ip("10.0.0.2")).unwrap();
        assert!(matches!(limits.begin(ip("10.0.0.3")), Err(Refusal::Server { limit: 3 })));
        drop(a1);
        let _a3 = limits.begin(ip("10.0.0.1")).unwrap();
    }

    #[test]
    fn blob_downloads_and_upload_bodies_are_transfers() {
        const D: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        let request = |method: &str, path: &str, body: &'static str| {
            let body = if body.is_empty() { Body::empty() } else { Body::from(body) };
            Request::builder().method(method).uri(path).body(body).unwrap()
        };
        let blob = format!("/v2/a/blobs/{D}");
        assert!(is_transfer(&request("GET", &blob, "")));
        assert!(!is_transfer(&request("HEAD", &blob, "")));
        assert!(!is_transfer(&request("GET", "/v2/a/manifests/v1", "")));
        assert!(!is_transfer(&request("GET", "/v2/a/blobs/sha256:abc", "")));
        assert!(!is_transfer(&request("POST", "/v2/a/blobs/uploads/", "")));
        assert!(is_transfer(&request("POST", &format!("/v2/a/blobs/uploads/?digest={D}"), "data")));
        assert!(is_transfer(&request("PATCH", "/v2/a/blobs/uploads/x", "data")));
        assert!(is_transfer(&request("PUT", "/v2/a/blobs/uploads/x", "data")));
        assert!(!is_transfer(&request("PUT", &format!("/v2/a/blobs/uploads/x?digest={D}"), "")));
        assert!(!is_transfer(&request("GET", "/v2/a/blobs/uploads/x", "")));
    }

    #[test]
    fn ipv6_clients_count_by_their_64() {
        let limits = TransferLimits::new(1, 10);
        let _a = limits.begin(ip("2001:db8:1:2::1")).unwrap();
        assert!(limits.begin(ip("2001:db8:1:2:ffff::9")).is_err());
        assert!(limits.begin(ip("2001:db8:1:3::1")).is_ok());
    }

    #[test]
    fn a_slot_lasts_as_long_as_the_bodies_holding_it() {
        let limits = TransferLimits::new(1, 10);
        let slot = Arc::new(limits.begin(ip("10.0.0.1")).unwrap());
        let request_body = holding(Body::from("upload"), slot.clone());
        let response_body = holding(Body::empty(), slot);
        drop(response_body);
        assert!(limits.begin(ip("10.0.0.1")).is_err(), "released while the request body was still held");
        drop(request_body);
        assert!(limits.begin(ip("10.0.0.1")).is_ok());
        assert!(limits.0.open.lock().unwrap().by_client.is_empty(), "finished clients are forgotten");
    }
}

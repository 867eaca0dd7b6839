//! Who is on the other end of a request.

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;

/// The client's address as the connection shows it (IPv4 clients of an
/// IPv6 socket as IPv4), or `None` for a request that did not come off a
/// network connection. Every use of the client's address goes through here,
/// so a trusted proxy's `X-Forwarded-For` can later refine it in one place.
pub(crate) fn ip(extensions: &http::Extensions) -> Option<IpAddr> {
    extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_canonical())
}

//! Helpers for Berth's end-to-end tests: a real `berth` process on a free
//! port, image fixtures, and wrappers around real registry clients.

pub mod buildah;
pub mod clients;
pub mod ctr;
pub mod fixtures;
pub mod oci_http;
pub mod server;
pub mod slapd;
pub mod tmpfs;

pub use server::{Berth, ADMIN_PASSWORD, ADMIN_USER};
pub use slapd::Slapd;

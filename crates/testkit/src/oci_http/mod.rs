//! A thin HTTP client for driving a registry at the protocol level in tests:
//! blob uploads in every flavour the OCI Distribution Spec allows, manifest
//! pushes and pulls, OCI error-body assertions, and a raw TCP escape hatch
//! for requests no well-behaved client would send.

mod assertions;
mod client;
mod content;
mod generated;
mod jwt;
mod raw;
mod routes;

pub use assertions::*;
pub use client::*;
pub use content::*;
pub use generated::*;
pub use jwt::*;
pub use raw::*;
pub use routes::*;

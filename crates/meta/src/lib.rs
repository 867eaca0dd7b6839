//! Metadata: the ports through which services read and write what exists
//! (repositories, blobs, manifests, tags, uploads) and their backends.
//!
//! All SQL in Berth lives in this crate.

mod error;
mod registry;
pub mod sqlite;
#[cfg(any(test, feature = "test-suite"))]
pub mod suite;

pub use error::{MetaError, MetaResult};
pub use registry::{ManifestPut, ManifestRecord, NewManifest, Referrer, RegistryMeta};

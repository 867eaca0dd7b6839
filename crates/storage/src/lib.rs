//! Blob storage: the `BlobStore` port and its backends.
//!
//! Blobs are content-addressed and immutable. Uploads are written to a
//! private staging area, hashed while they stream in, and become visible
//! only after their digest is verified and they are atomically moved into
//! place, so no partial or wrong blob can ever be read.

mod error;
pub mod fs;
mod range;
mod store;
#[cfg(any(test, feature = "test-suite"))]
pub mod suite;

pub use error::{StorageError, StorageResult};
pub use range::ByteRange;
pub use store::{BlobStore, ByteStream, UploadId};

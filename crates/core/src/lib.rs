//! Domain types shared by every Berth layer.
//!
//! Everything here is validated at construction: once a value of one of
//! these types exists, the rest of the program may trust it.

pub mod digest;
pub mod dns;
pub mod error;
pub mod media_type;
pub mod name;
pub mod reference;
pub mod time;

pub use digest::{Algorithm, Digest, DigestHasher};
pub use error::{Error, Result};
pub use name::RepoName;
pub use reference::{Reference, Tag};

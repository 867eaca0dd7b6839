//! Identity primitives: password hashing, registry tokens, scopes and the RBAC policy table.
//! Pure functions; storage and IO live elsewhere.

mod error;
mod password;
mod policy;
mod scope;
mod sealed;
mod token;

pub use error::AuthError;
pub use password::{check_password_strength, generate_password, generate_secret, hash_password, verify_password};
pub use policy::{role_allows, Act, Resource, Role};
pub use scope::{parse_scopes, Scope};
pub use sealed::SealingKey;
pub use token::{issue, verify, Claims, Issued, SigningKey, Subject, TokenAccount};

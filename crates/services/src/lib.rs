//! Use cases. Every decision about what a request may do and what it means
//! is made here; transports only translate.

mod errors;
pub mod registry;

pub use registry::Registry;

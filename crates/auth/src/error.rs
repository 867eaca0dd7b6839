//! The one error type of the crate.

use thiserror::Error;

/// Why an identity operation was refused.
///
/// Every message is meant to be shown to the person who made the request, so none of them
/// leaks key ids, library internals or which byte of a token was wrong.
#[derive(Debug, Error)]
pub enum AuthError {
    /// The password breaks the strength rule; the message names the rules it breaks.
    #[error("{0}")]
    WeakPassword(String),
    /// A token-auth scope could not be understood.
    #[error("{0}")]
    InvalidScope(String),
    /// A bearer token was refused.
    #[error("{0}")]
    InvalidToken(String),
    /// A sealed secret could not be opened: another key, or damaged data.
    #[error("{0}")]
    Unsealable(String),
    /// Something that should not fail did (parameters, the random source, signing).
    #[error("internal error: {0}")]
    Internal(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_shown_verbatim() {
        assert_eq!(AuthError::InvalidToken("token expired".into()).to_string(), "token expired");
        assert_eq!(AuthError::Internal("no entropy".into()).to_string(), "internal error: no entropy");
    }
}

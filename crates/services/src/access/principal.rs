//! Who is asking.

use std::sync::Arc;

use berth_auth::Scope;

/// A signed-in account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: i64,
    pub username: String,
    pub sysadmin: bool,
}

/// The identity behind a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    Anonymous,
    User(Arc<Account>),
}

impl Principal {
    /// The name recorded in the audit log.
    pub fn name(&self) -> &str {
        match self {
            Principal::Anonymous => "anonymous",
            Principal::User(a) => &a.username,
        }
    }

    pub fn is_sysadmin(&self) -> bool {
        matches!(self, Principal::User(a) if a.sysadmin)
    }

    pub fn account(&self) -> Option<&Account> {
        match self {
            Principal::Anonymous => None,
            Principal::User(a) => Some(a),
        }
    }
}

/// An authenticated request: who, from where, and, when a registry token
/// was presented, exactly what that token grants.
#[derive(Debug, Clone)]
pub struct Caller {
    pub principal: Principal,
    pub client_address: String,
    pub token_access: Option<Vec<Scope>>,
}

impl Caller {
    pub fn anonymous(client_address: impl Into<String>) -> Caller {
        Caller { principal: Principal::Anonymous, client_address: client_address.into(), token_access: None }
    }
}

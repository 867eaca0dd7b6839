//! Who is asking.

use std::sync::Arc;

use berth_auth::{Act, Resource, Scope};

/// A signed-in account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: i64,
    pub username: String,
    pub sysadmin: bool,
}

/// A signed-in robot account and what it may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RobotAccount {
    pub id: i64,
    pub name: String,
    pub permissions: Vec<RobotPermission>,
}

/// Actions a robot holds in one project, or in every project (`*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RobotPermission {
    pub namespace: String,
    pub access: Vec<(Resource, Act)>,
}

impl RobotAccount {
    /// The actions this robot holds in `project`.
    pub fn access_in(&self, project: &str) -> Vec<(Resource, Act)> {
        self.permissions
            .iter()
            .filter(|p| p.namespace == project || p.namespace == "*")
            .flat_map(|p| p.access.iter().copied())
            .collect()
    }
}

/// The identity behind a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    Anonymous,
    User(Arc<Account>),
    Robot(Arc<RobotAccount>),
}

impl Principal {
    /// The name recorded in the audit log.
    pub fn name(&self) -> &str {
        match self {
            Principal::Anonymous => "anonymous",
            Principal::User(a) => &a.username,
            Principal::Robot(r) => &r.name,
        }
    }

    /// A key telling principals apart in caches.
    pub(crate) fn cache_key(&self) -> String {
        match self {
            Principal::Anonymous => String::new(),
            Principal::User(a) => format!("u{}", a.id),
            Principal::Robot(r) => format!("r{}", r.id),
        }
    }

    pub fn is_sysadmin(&self) -> bool {
        matches!(self, Principal::User(a) if a.sysadmin)
    }

    /// The user account, when the caller is a person.
    pub fn account(&self) -> Option<&Account> {
        match self {
            Principal::User(a) => Some(a),
            _ => None,
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
    /// Refuses anyone but a system administrator: anonymous callers are
    /// asked to sign in, others are told who may `what`.
    pub fn require_sysadmin(&self, what: &str) -> berth_core::Result<()> {
        match &self.principal {
            p if p.is_sysadmin() => Ok(()),
            Principal::Anonymous => Err(berth_core::Error::Unauthorized("authentication required".into())),
            _ => Err(berth_core::Error::Denied(format!("only system administrators may {what}"))),
        }
    }

    pub fn anonymous(client_address: impl Into<String>) -> Caller {
        Caller { principal: Principal::Anonymous, client_address: client_address.into(), token_access: None }
    }
}

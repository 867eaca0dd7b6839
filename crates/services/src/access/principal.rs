//! Who is asking.

use std::sync::Arc;

use berth_auth::{Act, Resource, Scope, TokenAccount};
use berth_meta::{AccountKind, UserRecord};

/// A signed-in account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: i64,
    pub username: String,
    pub sysadmin: bool,
    /// The credential stamp the account had when it was read.
    pub stamp: i64,
}

impl From<UserRecord> for Account {
    fn from(u: UserRecord) -> Account {
        Account { id: u.id, username: u.username, sysadmin: u.sysadmin, stamp: u.credential_stamp }
    }
}

/// A signed-in robot account and what it may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RobotAccount {
    pub id: i64,
    pub name: String,
    pub permissions: Vec<RobotPermission>,
    /// The credential stamp the robot had when it was read.
    pub stamp: i64,
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
        match self.holder() {
            None => String::new(),
            Some(h) => format!("{}{}", h.kind.as_str(), h.id),
        }
    }

    /// The account by kind, id and credential stamp; `None` for anonymous callers.
    pub fn holder(&self) -> Option<Holder> {
        match self {
            Principal::Anonymous => None,
            Principal::User(a) => Some(Holder { kind: AccountKind::User, id: a.id, stamp: a.stamp }),
            Principal::Robot(r) => Some(Holder { kind: AccountKind::Robot, id: r.id, stamp: r.stamp }),
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

/// An account named the way credentials name it: by kind and id (stable
/// for the account's life, unlike a name) and the credential stamp that
/// was current when the credential was issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Holder {
    pub kind: AccountKind,
    pub id: i64,
    pub stamp: i64,
}

impl Holder {
    /// The `account` claim of a registry token.
    pub(crate) fn token_account(self) -> TokenAccount {
        TokenAccount { kind: self.kind.as_str().to_owned(), id: self.id, stamp: self.stamp }
    }

    /// The holder a token's `account` claim names, if it is well formed.
    pub(crate) fn from_token(t: &TokenAccount) -> Option<Holder> {
        Some(Holder { kind: AccountKind::parse(&t.kind)?, id: t.id, stamp: t.stamp })
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

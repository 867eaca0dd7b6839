//! The user accounts port.

use async_trait::async_trait;

use crate::{MetaResult, PageRequest, Paged};

/// Where an account's password is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserSource {
    Local,
    Ldap,
}

impl UserSource {
    pub fn as_str(self) -> &'static str {
        match self {
            UserSource::Local => "local",
            UserSource::Ldap => "ldap",
        }
    }
}

/// A stored account.
#[derive(Debug, Clone, PartialEq)]
pub struct UserRecord {
    pub id: i64,
    pub username: String,
    pub email: String,
    pub realname: String,
    pub comment: String,
    /// An argon2 PHC string; `None` when the password lives in LDAP.
    pub password_hash: Option<String>,
    pub source: UserSource,
    pub sysadmin: bool,
    pub disabled: bool,
    /// Changes whenever what was issued to the account must end (password
    /// change, disabling); see [`UserMeta::set_password_hash`].
    pub credential_stamp: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// An account about to be created.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub email: String,
    pub realname: String,
    pub comment: String,
    pub password_hash: Option<String>,
    pub source: UserSource,
    pub sysadmin: bool,
}

/// Fields a user (or an admin on their behalf) may change.
#[derive(Debug, Clone, Default)]
pub struct UserProfile {
    pub email: Option<String>,
    pub realname: Option<String>,
    pub comment: Option<String>,
}

/// A unique field already taken by another account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserConflict {
    Username,
    Email,
}

#[async_trait]
pub trait UserMeta: Send + Sync + 'static {
    /// Creates an account; `Err(conflict)` inside `Ok` when the username or
    /// email is taken.
    async fn create_user(&self, user: &NewUser) -> MetaResult<Result<i64, UserConflict>>;

    async fn user_by_id(&self, id: i64) -> MetaResult<Option<UserRecord>>;

    /// Usernames compare case-insensitively, as LDAP and Harbor do.
    async fn user_by_name(&self, username: &str) -> MetaResult<Option<UserRecord>>;

    /// Accounts whose username contains `name_contains`, by username.
    async fn list_users(&self, name_contains: Option<&str>, page: PageRequest) -> MetaResult<Paged<UserRecord>>;

    async fn count_users(&self) -> MetaResult<u64>;

    /// False if no such user.
    async fn update_user_profile(&self, id: i64, profile: &UserProfile) -> MetaResult<Result<bool, UserConflict>>;

    /// Replaces the password hash and renews the credential stamp, in one
    /// write. A new stamp is random, never a previous value.
    async fn set_password_hash(&self, id: i64, hash: &str) -> MetaResult<bool>;

    async fn set_sysadmin(&self, id: i64, sysadmin: bool) -> MetaResult<bool>;

    /// Sets the disabled flag and renews the credential stamp, in one write.
    async fn set_disabled(&self, id: i64, disabled: bool) -> MetaResult<bool>;

    /// Deletes the account, its memberships and its refresh tokens.
    async fn delete_user(&self, id: i64) -> MetaResult<bool>;
}

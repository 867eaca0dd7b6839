//! The port that readies an empty database.

use async_trait::async_trait;

use crate::{MetaResult, NewUser, ProjectSettings, SigningKeyRecord};

/// What an empty database is given when the server first starts.
#[derive(Debug, Clone)]
pub struct FirstStart {
    /// The system admin.
    pub admin: NewUser,
    /// The project made for the admin (the default project).
    pub project: String,
    pub settings: ProjectSettings,
    /// The admin's role in that project, as Harbor's role id.
    pub role: i64,
    /// The first key that signs registry tokens, sealed.
    pub signing_key: SigningKeyRecord,
}

#[async_trait]
pub trait FirstStartMeta: Send + Sync + 'static {
    /// On a database without users, creates the admin, the project (unless
    /// one has its name), the admin's membership of it and the first
    /// signing key, all in one
    /// transaction, and returns the admin's id. On any other database it
    /// changes nothing and returns `None`: of servers starting together on
    /// one new database, exactly one prepares it, and one that fails half
    /// way leaves it empty for the next start.
    async fn first_start(&self, plan: &FirstStart) -> MetaResult<Option<i64>>;
}

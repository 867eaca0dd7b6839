//! The robot accounts port.

use async_trait::async_trait;

use crate::{MetaResult, PageRequest, Paged};

/// A stored robot account.
#[derive(Debug, Clone, PartialEq)]
pub struct RobotRecord {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub secret_hash: String,
    /// `None` for system-level robots.
    pub project_id: Option<i64>,
    pub disabled: bool,
    /// Unix seconds; -1 never expires.
    pub expires_at: i64,
    /// Harbor's permission list, as JSON text.
    pub permissions: String,
    /// Changes with every update and secret refresh; ignored on create.
    pub credential_stamp: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Fields of a robot that can change after creation.
#[derive(Debug, Clone)]
pub struct RobotUpdate {
    pub description: String,
    pub disabled: bool,
    pub expires_at: i64,
    pub permissions: String,
}

#[async_trait]
pub trait RobotMeta: Send + Sync + 'static {
    /// `Ok(None)` when the name is taken. `id` and times of `robot` are ignored.
    async fn create_robot(&self, robot: &RobotRecord) -> MetaResult<Option<i64>>;

    async fn robot_by_id(&self, id: i64) -> MetaResult<Option<RobotRecord>>;

    async fn robot_by_name(&self, name: &str) -> MetaResult<Option<RobotRecord>>;

    /// Robots of one project, or every robot when `project_id` is `None`; by name.
    async fn list_robots(&self, project_id: Option<i64>, page: PageRequest) -> MetaResult<Paged<RobotRecord>>;

    /// Applies `update` and renews the credential stamp, in one write.
    async fn update_robot(&self, id: i64, update: &RobotUpdate) -> MetaResult<bool>;

    /// Replaces the secret hash and renews the credential stamp, in one write.
    async fn set_robot_secret(&self, id: i64, secret_hash: &str) -> MetaResult<bool>;

    /// Deletes the robot and its refresh tokens.
    async fn delete_robot(&self, id: i64) -> MetaResult<bool>;
}

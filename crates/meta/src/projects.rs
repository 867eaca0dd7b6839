//! The projects and members port.

use async_trait::async_trait;

use crate::{MetaResult, PageRequest, Paged};

/// Per-project configuration; stored here, enforced by the features that
/// use it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectSettings {
    pub public: bool,
    pub content_trust: bool,
    pub prevent_vulnerable: bool,
    /// Lowest severity that blocks pulls when `prevent_vulnerable` is set.
    pub severity: String,
    pub auto_scan: bool,
}

impl Default for ProjectSettings {
    fn default() -> Self {
        ProjectSettings {
            public: false,
            content_trust: false,
            prevent_vulnerable: false,
            severity: "low".into(),
            auto_scan: false,
        }
    }
}

/// A stored project.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectRecord {
    pub id: i64,
    pub name: String,
    pub owner_id: Option<i64>,
    pub owner_name: Option<String>,
    pub settings: ProjectSettings,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Which projects a listing returns.
#[derive(Debug, Clone, Default)]
pub struct ProjectFilter {
    pub name_contains: Option<String>,
    pub public: Option<bool>,
    /// Only projects that are public or have this user as a member.
    pub visible_to: Option<i64>,
}

/// A user's membership in a project.
#[derive(Debug, Clone, PartialEq)]
pub struct MemberRecord {
    pub id: i64,
    pub project_id: i64,
    pub user_id: i64,
    pub username: String,
    /// Harbor's role id.
    pub role: i64,
}

/// What deleting a project came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProjectDeletion {
    Deleted,
    NotFound,
    /// Nothing was deleted: the project holds this many repositories.
    HoldsRepositories(u64),
}

/// Who creates a project: its owner, and the role (Harbor's role id) the
/// owner holds in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProjectOwner {
    pub user_id: i64,
    pub role: i64,
}

#[async_trait]
pub trait ProjectMeta: Send + Sync + 'static {
    /// `Ok(None)` when the name is taken. The owner, if any, becomes a
    /// member in the same transaction. Ids are never reused: a project
    /// created after another was deleted gets a new one, even under the
    /// same name, so whatever is keyed by id (audit entries) stays apart.
    async fn create_project(
        &self,
        name: &str,
        owner: Option<ProjectOwner>,
        s: &ProjectSettings,
    ) -> MetaResult<Option<i64>>;

    async fn project_by_name(&self, name: &str) -> MetaResult<Option<ProjectRecord>>;

    async fn project_by_id(&self, id: i64) -> MetaResult<Option<ProjectRecord>>;

    async fn list_projects(&self, filter: &ProjectFilter, page: PageRequest) -> MetaResult<Paged<ProjectRecord>>;

    async fn update_project_settings(&self, id: i64, s: &ProjectSettings) -> MetaResult<bool>;

    /// Deletes a project that holds no repository, with its memberships,
    /// its robots and their refresh tokens. The check and the deletion are
    /// one step: a repository created concurrently either is counted, or
    /// finds the project gone and is not created.
    async fn delete_project(&self, id: i64) -> MetaResult<ProjectDeletion>;

    /// Repositories whose name starts with `<project>/`.
    async fn count_project_repositories(&self, project: &str) -> MetaResult<u64>;

    /// Adds a member; `Ok(None)` if the user is already one.
    async fn add_member(&self, project_id: i64, user_id: i64, role: i64) -> MetaResult<Option<i64>>;

    /// The role id a user holds in a project, by project name.
    async fn member_role(&self, project: &str, user_id: i64) -> MetaResult<Option<i64>>;

    async fn member(&self, project_id: i64, member_id: i64) -> MetaResult<Option<MemberRecord>>;

    async fn list_members(
        &self,
        project_id: i64,
        name_contains: Option<&str>,
        page: PageRequest,
    ) -> MetaResult<Paged<MemberRecord>>;

    async fn update_member_role(&self, project_id: i64, member_id: i64, role: i64) -> MetaResult<bool>;

    async fn remove_member(&self, project_id: i64, member_id: i64) -> MetaResult<bool>;
}

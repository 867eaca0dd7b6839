//! Projects and their members.

mod logs;

use std::sync::Arc;

use berth_auth::{Act, Resource, Role};
use berth_core::{Error, RepoName, Result};
use berth_meta::{
    MemberRecord, Meta, PageRequest, Paged, ProjectDeletion, ProjectFilter, ProjectOwner, ProjectRecord,
    ProjectSettings,
};

use crate::access::{Access, Caller, Principal, ProjectAccess};
use crate::audit::{Audit, AuditEvent, ProjectRef};
use crate::errors;
use crate::settings::{ProjectCreation, Settings};

/// Project use cases.
#[derive(Clone)]
pub struct Projects {
    meta: Arc<dyn Meta>,
    access: Access,
    settings: Settings,
    audit: Audit,
}

/// A project as shown to one caller.
#[derive(Debug, Clone)]
pub struct ProjectView {
    pub project: ProjectRecord,
    pub repo_count: u64,
    /// The caller's own role, if a member.
    pub current_user_role: Option<Role>,
}

/// A user named in a request, by name or by id.
#[derive(Debug, Clone)]
pub enum UserRef {
    Name(String),
    Id(i64),
}

impl std::fmt::Display for UserRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UserRef::Name(n) => write!(f, "'{n}'"),
            UserRef::Id(id) => write!(f, "{id}"),
        }
    }
}

/// No one hands out a role wider than what they hold themselves (a robot
/// allowed to add members cannot make someone project admin).
fn require_covers(caller: &Caller, standing: &ProjectAccess, role: Role) -> Result<()> {
    if standing.covers_role(role) {
        return Ok(());
    }
    Err(Error::Denied(format!(
        "'{}' cannot grant the {} role: it allows more than '{}' holds in this project",
        caller.principal.name(),
        role.name(),
        caller.principal.name()
    )))
}

/// No one changes or removes a member whose role is wider than their own.
fn require_covers_member(caller: &Caller, standing: &ProjectAccess, member: &MemberRecord) -> Result<()> {
    match Role::from_harbor_id(member.role) {
        Some(role) if standing.covers_role(role) => Ok(()),
        _ => Err(Error::Denied(format!(
            "'{}' cannot change the membership of '{}': their role allows more than '{}' holds",
            caller.principal.name(),
            member.username,
            caller.principal.name()
        ))),
    }
}

fn check_project_name(name: &str) -> Result<()> {
    let valid = !name.contains('/') && name.len() <= 255 && name.parse::<RepoName>().is_ok();
    if valid {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "invalid project name '{}': use 1-255 lowercase letters, digits and single '.', '_' or '-' between them",
            name.chars().take(64).collect::<String>()
        )))
    }
}

impl Projects {
    pub fn new(meta: Arc<dyn Meta>, access: Access, settings: Settings, audit: Audit) -> Projects {
        Projects { meta, access, settings, audit }
    }

    /// Records an action in the project with this id and name.
    async fn record(
        &self,
        caller: &Caller,
        (id, name): (i64, &str),
        resource: String,
        kind: &'static str,
        op: &'static str,
    ) {
        self.audit.record(AuditEvent::by(caller, Some(ProjectRef::new(id, name)), resource, kind, op)).await;
    }

    /// Finds a project by Harbor's `project_name_or_id` and requires the
    /// caller's permission in it; refusals echo only the caller's input.
    async fn authorized(
        &self,
        caller: &Caller,
        name_or_id: &str,
        resource: Resource,
        act: Act,
    ) -> Result<(ProjectRecord, ProjectAccess)> {
        self.access.require_project(&caller.principal, name_or_id, resource, act).await
    }

    /// The name of the project `name_or_id` refers to, once the caller is
    /// allowed `act` on `resource` in it; the management API's check before
    /// any project route runs.
    pub async fn authorize(&self, caller: &Caller, name_or_id: &str, resource: Resource, act: Act) -> Result<String> {
        Ok(self.authorized(caller, name_or_id, resource, act).await?.0.name)
    }

    /// Whether a project with this name exists and the caller may see it;
    /// a project hidden from the caller does not exist for them.
    pub async fn visible(&self, caller: &Caller, name: &str) -> Result<bool> {
        match self.authorized(caller, name, Resource::Project, Act::Read).await {
            Ok(_) => Ok(true),
            Err(Error::NotFound(_) | Error::Unauthorized(_)) => Ok(false),
            Err(e) => Err(e),
        }
    }

    pub async fn create(&self, caller: &Caller, name: &str, settings: ProjectSettings) -> Result<ProjectRecord> {
        let Some(me) = caller.principal.account() else {
            return Err(Error::Unauthorized("authentication required".into()));
        };
        let restriction = self.settings.current().await?.project_creation_restriction;
        if restriction == ProjectCreation::AdminOnly && !me.sysadmin {
            return Err(Error::Denied("only system administrators may create projects".into()));
        }
        check_project_name(name)?;
        let owner = ProjectOwner { user_id: me.id, role: Role::ProjectAdmin.harbor_id() };
        let id = self
            .meta
            .create_project(name, Some(owner), &settings)
            .await
            .map_err(errors::meta)?
            .ok_or_else(|| Error::Conflict(format!("project '{name}' already exists")))?;
        self.access.invalidate();
        self.record(caller, (id, name), name.to_owned(), "project", "create").await;
        let created = self.meta.project_by_id(id).await.map_err(errors::meta)?;
        created.ok_or_else(|| Error::internal(format!("project '{name}' vanished right after its creation")))
    }

    pub async fn get(&self, caller: &Caller, name_or_id: &str) -> Result<ProjectView> {
        let (project, _) = self.authorized(caller, name_or_id, Resource::Project, Act::Read).await?;
        self.view(project, caller).await
    }

    /// A project with its repository count and the caller's role in it.
    async fn view(&self, project: ProjectRecord, caller: &Caller) -> Result<ProjectView> {
        let repo_count = self.meta.count_project_repositories(&project.name).await.map_err(errors::meta)?;
        let current_user_role = match caller.principal.account() {
            Some(a) => self.meta.member_role(&project.name, a.id).await.map_err(errors::meta)?,
            None => None,
        };
        Ok(ProjectView { project, repo_count, current_user_role: current_user_role.and_then(Role::from_harbor_id) })
    }

    /// Projects the caller can see: all for admins, public and own for others.
    pub async fn list(
        &self,
        caller: &Caller,
        mut filter: ProjectFilter,
        page: PageRequest,
    ) -> Result<Paged<ProjectView>> {
        filter.visible_to = match &caller.principal {
            p if p.is_sysadmin() => None,
            Principal::User(a) => Some(a.id),
            // Robots and anonymous callers list public projects.
            Principal::Anonymous | Principal::Robot(_) => {
                filter.public = Some(true);
                None
            }
        };
        let listed = self.meta.list_projects(&filter, page).await.map_err(errors::meta)?;
        let mut items = Vec::with_capacity(listed.items.len());
        for project in listed.items {
            items.push(self.view(project, caller).await?);
        }
        Ok(Paged { items, total: listed.total })
    }

    pub async fn update(&self, caller: &Caller, name_or_id: &str, settings: ProjectSettings) -> Result<()> {
        let (p, _) = self.authorized(caller, name_or_id, Resource::Project, Act::Update).await?;
        self.meta.update_project_settings(p.id, &settings).await.map_err(errors::meta)?;
        self.access.invalidate();
        self.record(caller, (p.id, &p.name), p.name.clone(), "project", "update").await;
        Ok(())
    }

    /// Deletes an empty project. Whether it is empty is decided together
    /// with the deletion, so a push landing meanwhile either keeps the
    /// project or finds it gone.
    pub async fn delete(&self, caller: &Caller, name_or_id: &str) -> Result<()> {
        let (p, _) = self.authorized(caller, name_or_id, Resource::Project, Act::Delete).await?;
        match self.meta.delete_project(p.id).await.map_err(errors::meta)? {
            ProjectDeletion::Deleted => {}
            ProjectDeletion::NotFound => return Err(Error::NotFound(format!("project '{name_or_id}' not found"))),
            ProjectDeletion::HoldsRepositories(repos) => {
                return Err(Error::PreconditionFailed(format!(
                    "project '{}' still holds {repos} repositories; delete them first",
                    p.name
                )))
            }
        }
        self.access.invalidate();
        self.record(caller, (p.id, &p.name), p.name.clone(), "project", "delete").await;
        Ok(())
    }

    pub async fn members(
        &self,
        caller: &Caller,
        name_or_id: &str,
        name: Option<&str>,
        page: PageRequest,
    ) -> Result<Paged<MemberRecord>> {
        let (p, _) = self.authorized(caller, name_or_id, Resource::Member, Act::List).await?;
        self.meta.list_members(p.id, name, page).await.map_err(errors::meta)
    }

    pub async fn member(&self, caller: &Caller, name_or_id: &str, member_id: i64) -> Result<MemberRecord> {
        let (p, _) = self.authorized(caller, name_or_id, Resource::Member, Act::Read).await?;
        self.meta
            .member(p.id, member_id)
            .await
            .map_err(errors::meta)?
            .ok_or_else(|| Error::NotFound("member not found".into()))
    }

    /// Adds an existing user as a member with `role`.
    pub async fn add_member(&self, caller: &Caller, name_or_id: &str, user: UserRef, role: Role) -> Result<i64> {
        let (p, standing) = self.authorized(caller, name_or_id, Resource::Member, Act::Create).await?;
        require_covers(caller, &standing, role)?;
        let found = match &user {
            UserRef::Name(name) => self.meta.user_by_name(name).await,
            UserRef::Id(id) => self.meta.user_by_id(*id).await,
        };
        let user = found.map_err(errors::meta)?.ok_or_else(|| Error::NotFound(format!("user {user} not found")))?;
        let id = self
            .meta
            .add_member(p.id, user.id, role.harbor_id())
            .await
            .map_err(errors::meta)?
            .ok_or_else(|| Error::Conflict(format!("'{}' is already a member of '{}'", user.username, p.name)))?;
        self.access.invalidate();
        let resource = format!("{}:{}", user.username, role.name());
        self.record(caller, (p.id, &p.name), resource, "member", "create").await;
        Ok(id)
    }

    pub async fn update_member(&self, caller: &Caller, name_or_id: &str, member_id: i64, role: Role) -> Result<()> {
        let (p, standing) = self.authorized(caller, name_or_id, Resource::Member, Act::Update).await?;
        let m = self.member(caller, name_or_id, member_id).await?;
        require_covers(caller, &standing, role)?;
        require_covers_member(caller, &standing, &m)?;
        self.meta.update_member_role(p.id, member_id, role.harbor_id()).await.map_err(errors::meta)?;
        self.access.invalidate();
        self.record(caller, (p.id, &p.name), format!("{}:{}", m.username, role.name()), "member", "update").await;
        Ok(())
    }

    pub async fn remove_member(&self, caller: &Caller, name_or_id: &str, member_id: i64) -> Result<()> {
        let (p, standing) = self.authorized(caller, name_or_id, Resource::Member, Act::Delete).await?;
        let m = self.member(caller, name_or_id, member_id).await?;
        require_covers_member(caller, &standing, &m)?;
        self.meta.remove_member(p.id, member_id).await.map_err(errors::meta)?;
        self.access.invalidate();
        self.record(caller, (p.id, &p.name), m.username, "member", "delete").await;
        Ok(())
    }
}

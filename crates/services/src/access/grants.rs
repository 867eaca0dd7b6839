//! What a principal may do in a project: its effective role, decided from
//! membership, the project's visibility and system-admin status.

use std::sync::Arc;

use berth_auth::{role_allows, Act, Resource, Role};
use berth_core::{Error, Result};
use berth_meta::ProjectRecord;

use super::{Access, Principal};
use crate::errors;

/// A principal's standing in one project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectAccess {
    pub project_id: i64,
    pub sysadmin: bool,
    /// The member role, or Limited Guest for anyone on a public project.
    pub role: Option<Role>,
    /// Actions granted one by one (robot accounts) rather than by role.
    pub granted: Arc<[(Resource, Act)]>,
}

impl ProjectAccess {
    /// Whether the static policy table, or an explicit grant, lets this
    /// principal act.
    pub fn allows(&self, resource: Resource, act: Act) -> bool {
        self.sysadmin
            || self.role.is_some_and(|r| role_allows(r, resource, act))
            || self.granted.contains(&(resource, act))
    }

    /// Whether this standing holds every action a member with `role` would:
    /// no one hands out a role wider than their own.
    pub fn covers_role(&self, role: Role) -> bool {
        every_action().all(|(r, a)| !role_allows(role, r, a) || self.allows(r, a))
    }

    /// Whether this standing holds every one of `actions`: no one grants a
    /// robot more than they hold themselves.
    pub fn covers(&self, actions: &[(Resource, Act)]) -> bool {
        actions.iter().all(|&(r, a)| self.allows(r, a))
    }

    /// The registry actions this standing grants on the project's
    /// repositories.
    pub fn repository_grant(&self) -> Grant {
        Grant {
            pull: self.allows(Resource::Repository, Act::Pull),
            push: self.allows(Resource::Repository, Act::Push),
            delete: self.allows(Resource::Artifact, Act::Delete),
        }
    }
}

fn every_action() -> impl Iterator<Item = (Resource, Act)> {
    Resource::ALL.into_iter().flat_map(|r| Act::ALL.into_iter().map(move |a| (r, a)))
}

/// Registry actions on a repository (the `pull`, `push`, `delete` of
/// token scopes).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Grant {
    pub pull: bool,
    pub push: bool,
    pub delete: bool,
}

/// One registry action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepoAction {
    Pull,
    Push,
    Delete,
}

impl RepoAction {
    pub fn as_str(self) -> &'static str {
        match self {
            RepoAction::Pull => "pull",
            RepoAction::Push => "push",
            RepoAction::Delete => "delete",
        }
    }
}

impl Grant {
    pub fn allows(&self, action: RepoAction) -> bool {
        match action {
            RepoAction::Pull => self.pull,
            RepoAction::Push => self.push,
            RepoAction::Delete => self.delete,
        }
    }

    /// The granted subset of `requested` token actions (`*` means all).
    pub fn filter(&self, requested: &[String]) -> Vec<String> {
        let mut out = Vec::new();
        for a in [RepoAction::Pull, RepoAction::Push, RepoAction::Delete] {
            let asked = requested.iter().any(|r| r == a.as_str() || r == "*");
            if asked && self.allows(a) {
                out.push(a.as_str().to_owned());
            }
        }
        out
    }
}

impl Access {
    /// The principal's standing in `project`, or `None` if there is no
    /// such project. Cached for a few seconds.
    pub async fn project_access(&self, who: &Principal, project: &str) -> Result<Option<ProjectAccess>> {
        let key = (who.cache_key(), project.to_owned());
        if let Some(hit) = self.standing.get(&key) {
            return Ok(hit);
        }
        let found = self.meta.project_by_name(project).await.map_err(errors::meta)?;
        let standing = match found {
            None => None,
            Some(p) => {
                let member = match who.account() {
                    Some(a) => self.meta.member_role(project, a.id).await.map_err(errors::meta)?,
                    None => None,
                };
                let member = member.and_then(Role::from_harbor_id);
                let public = p.settings.public.then_some(Role::LimitedGuest);
                let granted: Arc<[(Resource, Act)]> = match who {
                    Principal::Robot(r) => r.access_in(project).into(),
                    _ => Arc::new([]),
                };
                Some(ProjectAccess { project_id: p.id, sysadmin: who.is_sysadmin(), role: member.max(public), granted })
            }
        };
        self.standing.insert(key, standing.clone());
        Ok(standing)
    }

    /// Requires the principal to be allowed `act` on `resource` in
    /// `project`. A project the principal may not see answers exactly as a
    /// missing one, so names cannot be probed.
    pub async fn require(&self, who: &Principal, project: &str, resource: Resource, act: Act) -> Result<ProjectAccess> {
        let standing = self.project_access(who, project).await?;
        judge(who, standing, project, resource, act)
    }

    /// Like [`Access::require`] for Harbor's `project_name_or_id` parameter:
    /// finds the project by id or name, and words every refusal with the
    /// caller's own input, so an id never reveals the name behind it.
    pub async fn require_project(
        &self,
        who: &Principal,
        name_or_id: &str,
        resource: Resource,
        act: Act,
    ) -> Result<(ProjectRecord, ProjectAccess)> {
        let by_id = match name_or_id.parse::<i64>() {
            Ok(id) => self.meta.project_by_id(id).await.map_err(errors::meta)?,
            Err(_) => None,
        };
        let found = match by_id {
            Some(p) => Some(p),
            None => self.meta.project_by_name(name_or_id).await.map_err(errors::meta)?,
        };
        let Some(project) = found else { return Err(hidden(who, name_or_id)) };
        let standing = self.project_access(who, &project.name).await?;
        let granted = judge(who, standing, name_or_id, resource, act)?;
        Ok((project, granted))
    }
}

/// The verdict on a standing: allowed, denied (the project is visible), or
/// hidden (answered as if there were no such project).
fn judge(
    who: &Principal,
    standing: Option<ProjectAccess>,
    shown_as: &str,
    r: Resource,
    a: Act,
) -> Result<ProjectAccess> {
    match standing {
        Some(s) if s.allows(r, a) => Ok(s),
        Some(s) if s.allows(Resource::Project, Act::Read) => Err(denied(who)),
        _ => Err(hidden(who, shown_as)),
    }
}

/// The answer about a project the caller may not see, and about one that
/// does not exist: the same, word for word, echoing only the caller's input.
pub(crate) fn hidden(who: &Principal, shown_as: &str) -> Error {
    match who {
        Principal::Anonymous => Error::Unauthorized("authentication required".into()),
        _ => Error::NotFound(format!("project '{shown_as}' not found")),
    }
}

/// Refusal: anonymous callers are asked to sign in, others are denied.
pub(crate) fn denied(who: &Principal) -> Error {
    match who {
        Principal::Anonymous => Error::Unauthorized("authentication required".into()),
        p => Error::Denied(format!("'{}' is not allowed to do this", p.name())),
    }
}

//! What a principal may do in a project: its effective role, decided from
//! membership, the project's visibility and system-admin status.

use std::sync::Arc;

use berth_auth::{role_allows, Act, Resource, Role};
use berth_core::{Error, Result};

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
    /// `project`. Unknown projects look the same as forbidden ones to
    /// anyone who may not see them.
    pub async fn require(&self, who: &Principal, project: &str, resource: Resource, act: Act) -> Result<ProjectAccess> {
        let standing = self.project_access(who, project).await?;
        match standing {
            Some(s) if s.allows(resource, act) => Ok(s),
            Some(s) if s.allows(Resource::Project, Act::Read) => Err(denied(who)),
            None if who.is_sysadmin() => Err(Error::NotFound(format!("project '{project}' not found"))),
            _ if matches!(who, Principal::Anonymous) => Err(denied(who)),
            _ => Err(Error::NotFound(format!("project '{project}' not found"))),
        }
    }
}

/// Refusal: anonymous callers are asked to sign in, others are denied.
pub(crate) fn denied(who: &Principal) -> Error {
    match who {
        Principal::Anonymous => Error::Unauthorized("sign in first: this needs an account".into()),
        p => Error::Denied(format!("'{}' is not allowed to do this", p.name())),
    }
}

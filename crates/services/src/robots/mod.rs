//! Robot accounts: non-human identities for pipelines, with explicit
//! permissions per project, a secret shown once, and an expiry.

use std::sync::Arc;

use berth_auth::{Act, Resource};
use berth_core::{Error, Result};
use berth_meta::{Meta, PageRequest, Paged, RobotRecord, RobotUpdate};
use serde::{Deserialize, Serialize};

use crate::access::{Access, Caller, RobotAccount, RobotPermission};
use crate::audit::{Audit, AuditEvent, ProjectRef};
use crate::{errors, unix_now};

mod manager;

use manager::{is_self, robot_not_found, Manager};

/// Every robot's name starts with this, so it can never collide with a user.
pub const ROBOT_PREFIX: &str = "robot$";

/// One entry of Harbor's robot permission list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PermissionSpec {
    /// Always "project".
    pub kind: String,
    /// A project name, or `*` for every project (system robots only).
    pub namespace: String,
    pub access: Vec<AccessSpec>,
}

/// One action on one resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessSpec {
    pub resource: String,
    pub action: String,
}

/// A robot as requested by its creator.
#[derive(Debug, Clone)]
pub struct RobotRequest {
    pub name: String,
    pub description: String,
    /// Days until expiry; -1 never expires.
    pub duration_days: i64,
    /// `Some(project)` for a project robot, `None` for a system robot.
    pub project: Option<String>,
    pub disabled: bool,
    pub permissions: Vec<PermissionSpec>,
}

/// A robot as shown (never with its secret hash).
#[derive(Debug, Clone)]
pub struct RobotView {
    pub record: RobotRecord,
    pub permissions: Vec<PermissionSpec>,
}

fn parse_action(spec: &AccessSpec) -> Result<(Resource, Act)> {
    let resource = Resource::ALL.into_iter().find(|r| r.as_str() == spec.resource);
    let act = Act::ALL.into_iter().find(|a| a.as_str() == spec.action);
    match (resource, act) {
        (Some(r), Some(a)) => Ok((r, a)),
        _ => Err(Error::Invalid(format!("unknown robot permission {}:{}", spec.resource, spec.action))),
    }
}

/// The signed-in form of a stored robot.
pub(crate) fn robot_account(r: &RobotRecord) -> Result<RobotAccount> {
    let specs: Vec<PermissionSpec> = serde_json::from_str(&r.permissions).map_err(Error::internal)?;
    let permissions = specs
        .iter()
        .map(|p| {
            let access = p.access.iter().map(parse_action).collect::<Result<_>>()?;
            Ok(RobotPermission { namespace: p.namespace.clone(), access })
        })
        .collect::<Result<_>>()?;
    Ok(RobotAccount { id: r.id, name: r.name.clone(), permissions, stamp: r.credential_stamp })
}

/// Whether a robot may sign in at `now`.
pub(crate) fn robot_is_active(r: &RobotRecord, now: i64) -> bool {
    !r.disabled && (r.expires_at < 0 || r.expires_at > now)
}

fn expiry(duration_days: i64) -> Result<i64> {
    match duration_days {
        -1 => Ok(-1),
        d if (1..=36_500).contains(&d) => Ok(unix_now() + d * 86_400),
        _ => Err(Error::Invalid("duration must be -1 (never expires) or 1 to 36500 days".into())),
    }
}

/// Robot account use cases.
#[derive(Clone)]
pub struct Robots {
    meta: Arc<dyn Meta>,
    access: Access,
    audit: Audit,
}

impl Robots {
    pub fn new(meta: Arc<dyn Meta>, access: Access, audit: Audit) -> Robots {
        Robots { meta, access, audit }
    }

    /// Requires the caller to manage robots at the robot's level: system
    /// admins for system robots; for project robots, whoever the project
    /// lets do `act` on robots (`project` is a name or id, as given).
    async fn require_manager(&self, caller: &Caller, project: Option<&str>, act: Act) -> Result<Manager> {
        match project {
            Some(p) => {
                let (_, standing) = self.access.require_project(&caller.principal, p, Resource::Robot, act).await?;
                Ok(Manager::Project(standing))
            }
            None => caller.require_sysadmin("manage system robots").map(|()| Manager::System),
        }
    }

    /// [`Robots::require_manager`] for an existing robot: a caller who may
    /// not see its project learns only that there is no such robot.
    async fn require_manager_of(&self, caller: &Caller, robot: &RobotView, act: Act) -> Result<Manager> {
        let project = self.project_name(robot.record.project_id).await?;
        self.require_manager(caller, project.as_deref(), act).await.map_err(|e| match e {
            Error::NotFound(_) => robot_not_found(robot.record.id),
            e => e,
        })
    }

    /// Checks permissions against the robot's level: a project robot may
    /// only hold actions in its own project.
    fn check_permissions(project: Option<&str>, specs: &[PermissionSpec]) -> Result<()> {
        for p in specs {
            if p.kind != "project" {
                return Err(Error::Invalid(format!("unsupported permission kind '{}'", p.kind)));
            }
            if let Some(own) = project {
                if p.namespace != own {
                    return Err(Error::Invalid(format!("a robot of project '{own}' cannot act in '{}'", p.namespace)));
                }
            }
            for a in &p.access {
                parse_action(a)?;
            }
        }
        Ok(())
    }

    async fn project_name(&self, project_id: Option<i64>) -> Result<Option<String>> {
        match project_id {
            None => Ok(None),
            Some(id) => Ok(self.meta.project_by_id(id).await.map_err(errors::meta)?.map(|p| p.name)),
        }
    }

    async fn record(&self, caller: &Caller, project: Option<(i64, String)>, name: &str, operation: &'static str) {
        let project = project.map(|(id, name)| ProjectRef { id: Some(id), name });
        self.audit.record(AuditEvent::by(caller, project, name.to_owned(), "robot", operation)).await;
    }

    /// Creates a robot; returns it with its secret, which is not stored.
    pub async fn create(&self, caller: &Caller, req: RobotRequest) -> Result<(RobotView, String)> {
        let manager = self.require_manager(caller, req.project.as_deref(), Act::Create).await?;
        let valid_name = !req.name.is_empty()
            && req.name.len() <= 128
            && req.name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c));
        if !valid_name {
            return Err(Error::Invalid("robot names use 1-128 lowercase letters, digits, '.', '_' or '-'".into()));
        }
        Self::check_permissions(req.project.as_deref(), &req.permissions)?;
        manager.require_within(caller, &req.permissions, "grant")?;
        let project_id = manager.project_id();
        let name = match &req.project {
            Some(p) => format!("{ROBOT_PREFIX}{p}+{}", req.name),
            None => format!("{ROBOT_PREFIX}{}", req.name),
        };
        let secret = berth_auth::generate_secret();
        let record = RobotRecord {
            id: 0,
            name: name.clone(),
            description: req.description,
            secret_hash: berth_auth::hash_password(&secret).map_err(Error::internal)?,
            project_id,
            disabled: req.disabled,
            expires_at: expiry(req.duration_days)?,
            permissions: serde_json::to_string(&req.permissions).map_err(Error::internal)?,
            credential_stamp: 0,
            created_at: 0,
            updated_at: 0,
        };
        let id = self
            .meta
            .create_robot(&record)
            .await
            .map_err(errors::meta)?
            .ok_or_else(|| Error::Conflict(format!("robot '{name}' already exists")))?;
        self.record(caller, project_id.zip(req.project), &name, "create").await;
        Ok((self.get(caller, id).await?, secret))
    }

    /// One robot, as stored.
    async fn fetch(&self, id: i64) -> Result<RobotView> {
        let record = self.meta.robot_by_id(id).await.map_err(errors::meta)?.ok_or_else(|| robot_not_found(id))?;
        let permissions = serde_json::from_str(&record.permissions).map_err(Error::internal)?;
        Ok(RobotView { record, permissions })
    }

    /// One robot, for whoever manages robots at its level.
    pub async fn get(&self, caller: &Caller, id: i64) -> Result<RobotView> {
        let robot = self.fetch(id).await?;
        self.require_manager_of(caller, &robot, Act::Read).await?;
        Ok(robot)
    }

    /// Robots of one project (`project` by name or id, for whoever may list
    /// its robots), or all of them (system admins).
    pub async fn list(&self, caller: &Caller, project: Option<&str>, page: PageRequest) -> Result<Paged<RobotView>> {
        let manager = self.require_manager(caller, project, Act::List).await?;
        let found = self.meta.list_robots(manager.project_id(), page).await.map_err(errors::meta)?;
        let items = found
            .items
            .into_iter()
            .map(|record| {
                let permissions = serde_json::from_str(&record.permissions).map_err(Error::internal)?;
                Ok(RobotView { record, permissions })
            })
            .collect::<Result<_>>()?;
        Ok(Paged { items, total: found.total })
    }

    /// Changes description, permissions, expiry or the disabled flag. No
    /// robot changes its own account, and no caller gives a robot more than
    /// it holds or touches a robot that holds more.
    pub async fn update(&self, caller: &Caller, id: i64, req: RobotRequest) -> Result<()> {
        let current = self.fetch(id).await?;
        if is_self(caller, id) {
            return Err(Error::Denied("a robot cannot change its own permissions, expiry or state".into()));
        }
        let manager = self.require_manager_of(caller, &current, Act::Update).await?;
        let project = self.project_name(current.record.project_id).await?;
        Self::check_permissions(project.as_deref(), &req.permissions)?;
        manager.require_within(caller, &current.permissions, "change")?;
        manager.require_within(caller, &req.permissions, "grant")?;
        let expires_at = if req.duration_days == 0 { current.record.expires_at } else { expiry(req.duration_days)? };
        let update = RobotUpdate {
            description: req.description,
            disabled: req.disabled,
            expires_at,
            permissions: serde_json::to_string(&req.permissions).map_err(Error::internal)?,
        };
        self.meta.update_robot(id, &update).await.map_err(errors::meta)?;
        self.access.invalidate();
        self.record(caller, current.record.project_id.zip(project), &current.record.name, "update").await;
        Ok(())
    }

    /// Replaces a robot's secret and returns the new one. A robot may set
    /// its own secret (`secret`, if strong enough) or have one generated;
    /// managers only ever get a generated one, so no caller chooses another
    /// account's secret.
    pub async fn refresh_secret(&self, caller: &Caller, id: i64, secret: Option<String>) -> Result<String> {
        let current = self.fetch(id).await?;
        if !is_self(caller, id) {
            let manager = self.require_manager_of(caller, &current, Act::Update).await?;
            manager.require_within(caller, &current.permissions, "reset the secret of")?;
            if secret.is_some() {
                return Err(Error::Denied(
                    "only the robot itself may choose its secret; leave \"secret\" out to have one generated".into(),
                ));
            }
        }
        let secret = match secret {
            Some(s) => {
                berth_auth::check_password_strength(&s).map_err(|e| Error::Invalid(e.to_string()))?;
                s
            }
            None => berth_auth::generate_secret(),
        };
        let hash = berth_auth::hash_password(&secret).map_err(Error::internal)?;
        self.meta.set_robot_secret(id, &hash).await.map_err(errors::meta)?;
        self.access.invalidate();
        let project = self.project_name(current.record.project_id).await?;
        self.record(caller, current.record.project_id.zip(project), &current.record.name, "refresh_secret").await;
        Ok(secret)
    }

    pub async fn delete(&self, caller: &Caller, id: i64) -> Result<()> {
        let current = self.fetch(id).await?;
        let manager = self.require_manager_of(caller, &current, Act::Delete).await?;
        manager.require_within(caller, &current.permissions, "delete")?;
        let project = self.project_name(current.record.project_id).await?;
        self.meta.delete_robot(id).await.map_err(errors::meta)?;
        self.access.invalidate();
        self.record(caller, current.record.project_id.zip(project), &current.record.name, "delete").await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn robot(disabled: bool, expires_at: i64, permissions: &str) -> RobotRecord {
        RobotRecord {
            id: 1,
            name: "robot$p+r".into(),
            description: String::new(),
            secret_hash: String::new(),
            project_id: Some(1),
            disabled,
            expires_at,
            permissions: permissions.into(),
            credential_stamp: 0,
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn robots_expire_and_can_be_disabled() {
        assert!(robot_is_active(&robot(false, -1, "[]"), 1_000));
        assert!(robot_is_active(&robot(false, 1_001, "[]"), 1_000));
        assert!(!robot_is_active(&robot(false, 1_000, "[]"), 1_000), "expired at its expiry second");
        assert!(!robot_is_active(&robot(true, -1, "[]"), 1_000));
        assert!(expiry(0).is_err() && expiry(-2).is_err() && expiry(36_501).is_err());
        assert_eq!(expiry(-1).unwrap(), -1);
    }

    #[test]
    fn permissions_become_resource_actions() {
        let json = r#"[{"kind":"project","namespace":"p","access":[{"resource":"repository","action":"push"}]}]"#;
        let account = robot_account(&robot(false, -1, json)).unwrap();
        assert_eq!(account.access_in("p"), [(Resource::Repository, Act::Push)]);
        assert!(account.access_in("q").is_empty());
    }
}

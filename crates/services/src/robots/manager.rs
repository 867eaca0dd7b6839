//! Who may manage a robot, and the rule that no manager hands a robot more
//! than it holds itself.

use berth_core::{Error, Result};

use super::{parse_action, PermissionSpec};
use crate::access::{Caller, Principal, ProjectAccess};

/// The answer for a robot that does not exist or cannot be seen.
pub(super) fn robot_not_found(id: i64) -> Error {
    Error::NotFound(format!("robot {id} not found"))
}

/// Whether the caller is the robot `id` itself.
pub(super) fn is_self(caller: &Caller, id: i64) -> bool {
    matches!(&caller.principal, Principal::Robot(r) if r.id == id)
}

/// Who manages robots at a robot's level, and what they hold.
pub(super) enum Manager {
    /// A system admin: holds everything.
    System,
    /// Someone the project lets manage its robots, holding this standing.
    Project(ProjectAccess),
}

impl Manager {
    pub(super) fn project_id(&self) -> Option<i64> {
        match self {
            Manager::System => None,
            Manager::Project(s) => Some(s.project_id),
        }
    }

    /// Refuses unless the manager holds every permission in `specs`.
    pub(super) fn require_within(&self, caller: &Caller, specs: &[PermissionSpec], verb: &str) -> Result<()> {
        let Manager::Project(standing) = self else { return Ok(()) };
        for spec in specs {
            let actions = spec.access.iter().map(parse_action).collect::<Result<Vec<_>>>()?;
            if let Some((r, a)) = actions.into_iter().find(|&(r, a)| !standing.covers(&[(r, a)])) {
                return Err(Error::Denied(format!(
                    "'{}' cannot {verb} a robot holding {}:{}, which '{}' does not hold itself",
                    caller.principal.name(),
                    r.as_str(),
                    a.as_str(),
                    caller.principal.name()
                )));
            }
        }
        Ok(())
    }
}

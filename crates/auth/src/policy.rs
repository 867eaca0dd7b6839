//! The project RBAC policy: which project role may perform which action on which resource.

use serde::{Deserialize, Serialize};

/// A member's role inside one project.
///
/// Variants are declared from least to most powerful so `Ord` answers "is at least as powerful as".
/// Serialized with Harbor's `role_name` spelling so API payloads stay compatible.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Role {
    /// Can pull, but cannot see who else is in the project or how it is set up.
    LimitedGuest,
    /// Read-only member: sees everything a viewer needs, changes nothing.
    Guest,
    /// Pushes content and manages tags and labels, but cannot destroy artifacts.
    Developer,
    /// Runs the content lifecycle: deletions, scans, replication and tag rules.
    Maintainer,
    /// Owns the project: people, robots, settings and the project itself.
    ProjectAdmin,
}

impl Role {
    /// Every role, least powerful first.
    pub const ALL: [Role; 5] = [Role::LimitedGuest, Role::Guest, Role::Developer, Role::Maintainer, Role::ProjectAdmin];

    /// Harbor's numeric `role_id`, which Harbor clients send and expect in member APIs.
    pub fn harbor_id(self) -> i64 {
        match self {
            Role::ProjectAdmin => 1,
            Role::Developer => 2,
            Role::Guest => 3,
            Role::Maintainer => 4,
            Role::LimitedGuest => 5,
        }
    }

    /// Inverse of [`Role::harbor_id`]; `None` for ids Harbor never assigned.
    pub fn from_harbor_id(id: i64) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.harbor_id() == id)
    }

    /// Harbor's `role_name` string.
    pub fn name(self) -> &'static str {
        match self {
            Role::ProjectAdmin => "projectAdmin",
            Role::Developer => "developer",
            Role::Guest => "guest",
            Role::Maintainer => "maintainer",
            Role::LimitedGuest => "limitedGuest",
        }
    }
}

/// What a permission is about, scoped to one project.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Resource {
    Project,
    /// Project metadata and settings (public flag, auto-scan, …).
    Configuration,
    Member,
    Log,
    Repository,
    Artifact,
    Tag,
    Scan,
    Robot,
    Immutability,
    Retention,
    Replication,
    Label,
}

impl Resource {
    /// Every resource, for exhaustive checks and permission listings.
    pub const ALL: [Resource; 13] = [
        Resource::Project,
        Resource::Configuration,
        Resource::Member,
        Resource::Log,
        Resource::Repository,
        Resource::Artifact,
        Resource::Tag,
        Resource::Scan,
        Resource::Robot,
        Resource::Immutability,
        Resource::Retention,
        Resource::Replication,
        Resource::Label,
    ];

    /// Harbor's RBAC resource name, as shown in permission listings and robot permissions.
    pub fn as_str(self) -> &'static str {
        match self {
            Resource::Project => "project",
            Resource::Configuration => "configuration",
            Resource::Member => "member",
            Resource::Log => "log",
            Resource::Repository => "repository",
            Resource::Artifact => "artifact",
            Resource::Tag => "tag",
            Resource::Scan => "scan",
            Resource::Robot => "robot",
            Resource::Immutability => "immutable-tag",
            Resource::Retention => "tag-retention",
            Resource::Replication => "replication",
            Resource::Label => "label",
        }
    }
}

/// An action on a [`Resource`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Act {
    Read,
    List,
    Create,
    Update,
    Delete,
    Pull,
    Push,
}

impl Act {
    /// Every action, for exhaustive checks and permission listings.
    pub const ALL: [Act; 7] = [Act::Read, Act::List, Act::Create, Act::Update, Act::Delete, Act::Pull, Act::Push];

    /// Harbor's RBAC action name.
    pub fn as_str(self) -> &'static str {
        match self {
            Act::Read => "read",
            Act::List => "list",
            Act::Create => "create",
            Act::Update => "update",
            Act::Delete => "delete",
            Act::Pull => "pull",
            Act::Push => "push",
        }
    }
}

/// The whole policy: each row is the least powerful role allowed to do that action.
///
/// Storing a minimum rather than a role list makes "a higher role can do everything a lower one
/// can" true by construction. Pairs that are absent are refused to everyone.
const POLICY: &[(Resource, Act, Role)] = {
    use Act::*;
    use Resource::*;
    use Role::*;
    &[
        // Limited guest: pull and look at what is there, nothing about people or settings.
        (Project, Read, LimitedGuest),
        (Repository, List, LimitedGuest),
        (Repository, Read, LimitedGuest),
        (Repository, Pull, LimitedGuest),
        (Artifact, List, LimitedGuest),
        (Artifact, Read, LimitedGuest),
        (Tag, List, LimitedGuest),
        (Scan, Read, LimitedGuest),
        // Guest: read-only view of the whole project.
        (Member, Read, Guest),
        (Member, List, Guest),
        (Log, List, Guest),
        (Configuration, Read, Guest),
        (Robot, Read, Guest),
        (Robot, List, Guest),
        (Label, List, Guest),
        (Label, Read, Guest),
        (Immutability, List, Guest),
        (Retention, Read, Guest),
        // Developer: push content and manage tags and artifact labels.
        (Repository, Push, Developer),
        (Artifact, Create, Developer),
        (Tag, Create, Developer),
        (Tag, Delete, Developer),
        (Label, Create, Developer),
        (Label, Delete, Developer),
        // Maintainer: destructive content operations and content rules.
        (Repository, Update, Maintainer),
        (Repository, Delete, Maintainer),
        (Artifact, Delete, Maintainer),
        (Tag, Update, Maintainer),
        (Scan, Create, Maintainer),
        (Replication, Create, Maintainer),
        (Immutability, Create, Maintainer),
        (Immutability, Update, Maintainer),
        (Immutability, Delete, Maintainer),
        (Retention, Create, Maintainer),
        (Retention, Update, Maintainer),
        (Retention, Delete, Maintainer),
        // Project admin: the project itself, its people, robots, settings and audit log.
        (Project, Update, ProjectAdmin),
        (Project, Delete, ProjectAdmin),
        (Member, Create, ProjectAdmin),
        (Member, Update, ProjectAdmin),
        (Member, Delete, ProjectAdmin),
        (Configuration, Update, ProjectAdmin),
        (Robot, Create, ProjectAdmin),
        (Robot, Update, ProjectAdmin),
        (Robot, Delete, ProjectAdmin),
        (Log, Read, ProjectAdmin),
    ]
};

/// Whether a project member with `role` may perform `act` on `resource`.
pub fn role_allows(role: Role, resource: Resource, act: Act) -> bool {
    POLICY.iter().any(|&(res, a, min)| res == resource && a == act && role >= min)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn harbor_ids_and_names_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::from_harbor_id(role.harbor_id()), Some(role));
            let json = format!("\"{}\"", role.name());
            assert_eq!(serde_json_roundtrip(role), json);
        }
        assert_eq!(Role::ProjectAdmin.harbor_id(), 1);
        assert_eq!(Role::LimitedGuest.harbor_id(), 5);
        assert_eq!(Role::from_harbor_id(0), None);
        assert_eq!(Role::from_harbor_id(6), None);
    }

    fn serde_json_roundtrip(role: Role) -> String {
        let json = serde_json::to_string(&role).unwrap();
        assert_eq!(serde_json::from_str::<Role>(&json).unwrap(), role);
        json
    }

    #[test]
    fn roles_are_ordered_by_power() {
        let mut sorted = Role::ALL;
        sorted.sort();
        assert_eq!(sorted, Role::ALL);
        assert!(Role::Maintainer > Role::Developer);
    }

    #[test]
    fn table_has_no_duplicate_rows() {
        for (i, row) in POLICY.iter().enumerate() {
            assert!(!POLICY[i + 1..].iter().any(|other| (other.0, other.1) == (row.0, row.1)), "{row:?}");
        }
    }

    #[test]
    fn higher_roles_can_do_everything_lower_roles_can() {
        for pair in Role::ALL.windows(2) {
            let (lower, higher) = (pair[0], pair[1]);
            for resource in Resource::ALL {
                for act in Act::ALL {
                    if role_allows(lower, resource, act) {
                        assert!(role_allows(higher, resource, act), "{higher:?} lost {resource:?} {act:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn explicit_matrix_rows() {
        assert!(role_allows(Role::LimitedGuest, Resource::Repository, Act::Pull));
        assert!(!role_allows(Role::LimitedGuest, Resource::Member, Act::List));
        assert!(!role_allows(Role::Guest, Resource::Repository, Act::Push));
        assert!(role_allows(Role::Developer, Resource::Repository, Act::Push));
        assert!(role_allows(Role::Developer, Resource::Tag, Act::Delete));
        assert!(!role_allows(Role::Developer, Resource::Artifact, Act::Delete));
        assert!(role_allows(Role::Maintainer, Resource::Artifact, Act::Delete));
        assert!(!role_allows(Role::Maintainer, Resource::Member, Act::Create));
        assert!(role_allows(Role::ProjectAdmin, Resource::Member, Act::Create));
        assert!(!role_allows(Role::Maintainer, Resource::Log, Act::Read));
        assert!(role_allows(Role::ProjectAdmin, Resource::Log, Act::Read));
    }

    #[test]
    fn unlisted_pairs_are_refused_to_everyone() {
        assert!(!role_allows(Role::ProjectAdmin, Resource::Replication, Act::Delete));
        assert!(!role_allows(Role::ProjectAdmin, Resource::Project, Act::Push));
    }
}

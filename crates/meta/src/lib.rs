//! Metadata: the ports through which services read and write what exists
//! (repositories, manifests, tags, uploads; users, projects, members,
//! settings, audit) and their backends.
//!
//! All SQL in Berth lives in this crate.

mod artifacts;
mod audit;
mod error;
mod first_start;
mod page;
mod projects;
mod refresh;
mod registry;
mod robots;
mod settings;
pub mod sqlite;
#[cfg(any(test, feature = "test-suite"))]
pub mod suite;
mod users;

pub use artifacts::{ArtifactMeta, ArtifactRecord, PullRecord, RepositoryRecord, TagCreation, TagRecord};
pub use audit::{AuditEntry, AuditMeta, AuditQuery};
pub use error::{MetaError, MetaResult};
pub use first_start::{FirstStart, FirstStartMeta};
pub use page::{PageRequest, Paged};
pub use projects::{
    MemberRecord, ProjectDeletion, ProjectFilter, ProjectMeta, ProjectOwner, ProjectRecord, ProjectSettings,
};
pub use refresh::{AccountKind, RefreshTokenMeta, RefreshTokenRecord};
pub use registry::{ChildRef, ManifestPut, ManifestRecord, NewManifest, Referrer, RegistryMeta, SizeMismatch};
pub use robots::{RobotMeta, RobotRecord, RobotUpdate};
pub use settings::{SettingsMeta, SigningKeyRecord};
pub use users::{NewUser, UserConflict, UserMeta, UserProfile, UserRecord, UserSource};

/// Every metadata port; what a full backend provides.
pub trait Meta:
    RegistryMeta
    + ArtifactMeta
    + UserMeta
    + ProjectMeta
    + RobotMeta
    + RefreshTokenMeta
    + SettingsMeta
    + AuditMeta
    + FirstStartMeta
{
}

impl<T> Meta for T where
    T: RegistryMeta
        + ArtifactMeta
        + UserMeta
        + ProjectMeta
        + RobotMeta
        + RefreshTokenMeta
        + SettingsMeta
        + AuditMeta
        + FirstStartMeta
{
}

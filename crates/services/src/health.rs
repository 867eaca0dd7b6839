//! Health: whether the database answers and blob storage takes writes.
//!
//! Storage is probed with a small real write, so a full or read-only disk
//! shows as failing even while reads, which need no space, keep working.

use crate::Services;

/// One part of the system and what is wrong with it, if anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Component {
    pub name: &'static str,
    /// `None` when healthy; otherwise a message for the operator.
    pub problem: Option<String>,
}

impl Services {
    /// Checks each component now.
    pub async fn health(&self) -> Vec<Component> {
        let database = match self.meta.settings().await {
            Ok(_) => None,
            Err(e) => {
                tracing::warn!(error = %e, "health: the database does not answer");
                Some("the database does not answer".to_owned())
            }
        };
        let storage = match self.registry.check_storage().await {
            Ok(()) => None,
            Err(berth_core::Error::StorageFull(_)) => Some("storage is full: new content cannot be stored".to_owned()),
            Err(e) => {
                tracing::warn!(error = %e, "health: blob storage refuses writes");
                Some("blob storage refuses writes".to_owned())
            }
        };
        vec![
            Component { name: "core", problem: None },
            Component { name: "database", problem: database },
            Component { name: "storage", problem: storage },
        ]
    }
}

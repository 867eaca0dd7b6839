//! A project's own audit log.

use berth_auth::{Act, Resource};
use berth_core::Result;
use berth_meta::{AuditEntry, AuditQuery, PageRequest, Paged};

use super::Projects;
use crate::access::Caller;

impl Projects {
    /// The entries matching `query` of the project `name_or_id` names now,
    /// for whoever may read its logs. They are found by the project's id:
    /// a deleted project of the same name keeps its entries to itself, and
    /// only system admins see those, in the full log.
    pub async fn logs(
        &self,
        caller: &Caller,
        name_or_id: &str,
        mut query: AuditQuery,
        page: PageRequest,
    ) -> Result<Paged<AuditEntry>> {
        let (project, _) = self.authorized(caller, name_or_id, Resource::Log, Act::List).await?;
        query.project = None;
        query.project_id = Some(project.id);
        self.audit.search(&query, page).await
    }
}

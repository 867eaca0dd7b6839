//! The audit log port.

use async_trait::async_trait;

use crate::{MetaResult, PageRequest, Paged};

/// One recorded action.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub id: i64,
    /// Unix seconds.
    pub at: i64,
    pub username: String,
    /// The project's name when the entry was made.
    pub project: Option<String>,
    /// The project's id, which no later project of the same name shares.
    pub project_id: Option<i64>,
    pub resource: String,
    pub resource_type: String,
    pub operation: String,
    pub success: bool,
    pub client_address: String,
}

/// What an audit search matches; every field set must match.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub username: Option<String>,
    /// By the name the project had, which a deleted project may share with a later one.
    pub project: Option<String>,
    pub project_id: Option<i64>,
    /// Substring of the resource.
    pub resource: Option<String>,
    pub resource_type: Option<String>,
    pub operation: Option<String>,
    /// Inclusive bounds, unix seconds.
    pub from: Option<i64>,
    pub to: Option<i64>,
}

#[async_trait]
pub trait AuditMeta: Send + Sync + 'static {
    /// Appends entries (their `id` is ignored) in one transaction.
    async fn append_audit(&self, entries: &[AuditEntry]) -> MetaResult<()>;

    /// Matching entries, newest first.
    async fn search_audit(&self, query: &AuditQuery, page: PageRequest) -> MetaResult<Paged<AuditEntry>>;

    /// Deletes entries older than `before`; returns how many.
    async fn purge_audit(&self, before: i64) -> MetaResult<u64>;
}

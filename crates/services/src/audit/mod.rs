//! The audit log: every significant action, who did it, from where and
//! whether it succeeded. Entries are written in batches by a background
//! task so recording never adds a database write to the request path.

mod writer;

use std::sync::Arc;

use berth_core::Result;
use berth_meta::{AuditEntry, AuditQuery, Meta, PageRequest, Paged};
use tokio::sync::{mpsc, oneshot};

use crate::access::Caller;
use crate::{errors, unix_now};

const QUEUE: usize = 8192;

/// One action to record.
#[derive(Debug, Clone)]
pub struct AuditEvent {
    /// When the action happened (Unix seconds): set when the event is made,
    /// not when its batch is written.
    pub at: i64,
    pub username: String,
    pub project: Option<ProjectRef>,
    pub resource: String,
    pub resource_type: &'static str,
    pub operation: &'static str,
    pub success: bool,
    pub client_address: String,
}

/// The project an action concerns. Project logs are found by `id`, which
/// no later project of the same name shares; `None` when no such project
/// exists (a refused push to a missing one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectRef {
    pub id: Option<i64>,
    pub name: String,
}

impl ProjectRef {
    pub fn new(id: i64, name: &str) -> ProjectRef {
        ProjectRef { id: Some(id), name: name.to_owned() }
    }
}

impl AuditEvent {
    /// A successful action by `caller`, now.
    pub fn by(
        caller: &Caller,
        project: Option<ProjectRef>,
        resource: String,
        kind: &'static str,
        op: &'static str,
    ) -> Self {
        AuditEvent {
            at: unix_now(),
            username: caller.principal.name().to_owned(),
            project,
            resource,
            resource_type: kind,
            operation: op,
            success: true,
            client_address: caller.client_address.clone(),
        }
    }

    /// A sign-in through the registry's token endpoint (`docker login`),
    /// under the name it used, now.
    pub fn login(username: String, client_address: String, success: bool) -> Self {
        AuditEvent {
            at: unix_now(),
            username,
            project: None,
            resource: "registry".into(),
            resource_type: "login",
            operation: "login",
            success,
            client_address,
        }
    }
}

enum Msg {
    Record(AuditEvent),
    Flush(oneshot::Sender<()>),
}

/// Records and searches audit entries.
#[derive(Clone)]
pub struct Audit {
    meta: Arc<dyn Meta>,
    tx: mpsc::Sender<Msg>,
}

impl Audit {
    /// Starts the background writer; it ends when every `Audit` is dropped.
    pub fn start(meta: Arc<dyn Meta>) -> Audit {
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(writer::run(meta.clone(), rx));
        Audit { meta, tx }
    }

    /// Queues an entry. Waits only if the writer is far behind, so that
    /// entries are delayed rather than lost.
    pub async fn record(&self, event: AuditEvent) {
        if self.tx.send(Msg::Record(event)).await.is_err() {
            tracing::error!("audit writer has stopped; entry not recorded");
        }
    }

    /// Waits until everything queued so far is stored, or one attempt to
    /// store it has failed.
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.tx.send(Msg::Flush(done)).await.is_ok() {
            let _ = wait.await;
        }
    }

    pub async fn search(&self, query: &AuditQuery, page: PageRequest) -> Result<Paged<AuditEntry>> {
        self.meta.search_audit(query, page).await.map_err(errors::meta)
    }

    /// Deletes entries older than `retention_hours`; returns how many.
    pub async fn purge(&self, retention_hours: u64) -> Result<u64> {
        // Saturating: a retention beyond any date keeps everything rather than
        // wrapping round into the future and deleting everything.
        let retention = i64::try_from(retention_hours).unwrap_or(i64::MAX).saturating_mul(3600);
        let before = unix_now().saturating_sub(retention);
        self.meta.purge_audit(before).await.map_err(errors::meta)
    }
}

pub(crate) fn entry(e: AuditEvent) -> AuditEntry {
    let (project, project_id) = match e.project {
        Some(p) => (Some(p.name), p.id),
        None => (None, None),
    };
    AuditEntry {
        id: 0,
        at: e.at,
        username: e.username,
        project,
        project_id,
        resource: e.resource,
        resource_type: e.resource_type.to_owned(),
        operation: e.operation.to_owned(),
        success: e.success,
        client_address: e.client_address,
    }
}

#[cfg(test)]
mod tests {
    use sqlx::Connection;

    use super::*;

    #[tokio::test]
    async fn entries_keep_the_time_and_project_of_their_event() {
        let dir = tempfile::tempdir().unwrap();
        let meta: Arc<dyn Meta> =
            Arc::new(berth_meta::sqlite::SqliteMeta::open(&dir.path().join("m.db")).await.unwrap());
        let audit = Audit::start(meta);
        let mut event = AuditEvent::login("alice".into(), "127.0.0.1".into(), true);
        assert!((unix_now() - event.at).abs() <= 1, "made now");
        // As if the action happened long before the batch was written.
        event.at = 1_000;
        event.project = Some(ProjectRef::new(42, "team"));
        audit.record(event).await;
        audit.flush().await;
        let found = audit.search(&AuditQuery::default(), PageRequest::ALL).await.unwrap();
        let e = &found.items[0];
        assert_eq!((found.total, e.at, e.project.as_deref(), e.project_id), (1, 1_000, Some("team"), Some(42)));
    }

    #[tokio::test]
    async fn entries_the_database_refuses_are_kept_and_stored_later() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.db");
        let meta: Arc<dyn Meta> = Arc::new(berth_meta::sqlite::SqliteMeta::open(&path).await.unwrap());
        let audit = Audit::start(meta);
        // The database refuses audit entries, as it would with a full disk.
        let mut admin = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display())).await.unwrap();
        let refuse = "CREATE TRIGGER refuse BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'disk full'); END";
        sqlx::query(refuse).execute(&mut admin).await.unwrap();
        let mut event = AuditEvent::login("alice".into(), "127.0.0.1".into(), true);
        event.at = 1_000;
        audit.record(event).await;
        audit.flush().await;
        assert_eq!(audit.search(&AuditQuery::default(), PageRequest::ALL).await.unwrap().total, 0);

        sqlx::query("DROP TRIGGER refuse").execute(&mut admin).await.unwrap();
        audit.record(AuditEvent::login("bob".into(), "127.0.0.1".into(), false)).await;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let found = loop {
            audit.flush().await;
            let found = audit.search(&AuditQuery::default(), PageRequest::ALL).await.unwrap();
            if found.total == 2 || std::time::Instant::now() > deadline {
                break found;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        };
        let mut names: Vec<_> = found.items.iter().map(|e| (e.username.as_str(), e.at == 1_000)).collect();
        names.sort();
        assert_eq!(names, [("alice", true), ("bob", false)]);
    }
}

//! Repositories, artifacts and tags as the management API shows and
//! changes them.

use std::sync::Arc;

use berth_auth::{Act, Resource};
use berth_core::{Digest, Error, Reference, RepoName, Result, Tag};
use berth_meta::{ArtifactRecord, Meta, PageRequest, Paged, RepositoryRecord};

use crate::access::{Access, Caller, ProjectAccess, RepoAction};
use crate::audit::{Audit, AuditEvent, ProjectRef};
use crate::errors;
use crate::pulls::PullCounter;
use crate::registry::Registry;

/// Repository and artifact use cases.
#[derive(Clone)]
pub struct Repositories {
    meta: Arc<dyn Meta>,
    access: Access,
    registry: Registry,
    audit: Audit,
    pulls: PullCounter,
}

/// `project` + Harbor's project-relative repository name (`a/b` or the
/// doubly encoded `a%2Fb` clients send for nested names).
pub fn repository_name(project: &str, relative: &str) -> Result<RepoName> {
    let relative = relative.replace("%2F", "/").replace("%2f", "/");
    format!("{project}/{relative}").parse()
}

impl Repositories {
    pub fn new(meta: Arc<dyn Meta>, access: Access, registry: Registry, audit: Audit, pulls: PullCounter) -> Self {
        Repositories { meta, access, registry, audit, pulls }
    }

    /// Records a manifest read, write or deletion through `/v2/`, allowed
    /// or refused: an audit entry, and for a served pull of `digest` (the
    /// manifest sent), the pull count.
    pub async fn manifest_accessed(
        &self,
        caller: &Caller,
        (repo, reference): (&RepoName, &Reference),
        action: RepoAction,
        success: bool,
        digest: Option<&Digest>,
    ) {
        let operation = match action {
            RepoAction::Pull => "pull",
            RepoAction::Push => "create",
            RepoAction::Delete => "delete",
        };
        let separator = if matches!(reference, Reference::Digest(_)) { "@" } else { ":" };
        // The id comes from the caller's standing, just decided for this
        // request and cached for a few seconds, so the pull path gains no
        // query. Project changes on this node clear that cache; on another
        // node a project deleted and re-created under the same name within
        // those seconds could take an entry of the old one.
        let id = match self.access.project_access(&caller.principal, repo.project()).await {
            Ok(standing) => standing.map(|s| s.project_id),
            Err(e) => {
                tracing::warn!(error = %e, "cannot tell the project of an audit entry");
                None
            }
        };
        let project = ProjectRef { id, name: repo.project().to_owned() };
        let mut event =
            AuditEvent::by(caller, Some(project), format!("{repo}{separator}{reference}"), "artifact", operation);
        event.success = success;
        self.audit.record(event).await;
        if let (RepoAction::Pull, true, Some(digest)) = (action, success, digest) {
            self.pulls.count(repo, digest);
        }
    }

    /// Writes pending pull counts (at shutdown).
    pub async fn flush_pulls(&self) {
        self.pulls.flush(self.meta.as_ref()).await;
    }

    /// Records an action in `repo`, whose project the caller's `standing` is in.
    async fn record(
        &self,
        caller: &Caller,
        (repo, standing): (&RepoName, &ProjectAccess),
        resource: String,
        kind: &'static str,
        op: &'static str,
    ) {
        let project = ProjectRef::new(standing.project_id, repo.project());
        self.audit.record(AuditEvent::by(caller, Some(project), resource, kind, op)).await;
    }

    pub async fn list(
        &self,
        caller: &Caller,
        project: &str,
        name: Option<&str>,
        page: PageRequest,
    ) -> Result<Paged<RepositoryRecord>> {
        self.access.require(&caller.principal, project, Resource::Repository, Act::List).await?;
        self.meta.list_repository_records(Some(project), name, page).await.map_err(errors::meta)
    }

    /// Every repository whose name contains `name`, in projects the caller
    /// may read; for the search endpoint.
    pub async fn search(&self, caller: &Caller, name: &str, limit: u32) -> Result<Vec<RepositoryRecord>> {
        let page = PageRequest { offset: 0, limit: limit.saturating_mul(4) };
        let found = self.meta.list_repository_records(None, Some(name), page).await.map_err(errors::meta)?;
        let mut visible = Vec::new();
        for r in found.items {
            let project = r.name.split('/').next().unwrap_or_default().to_owned();
            let standing = self.access.project_access(&caller.principal, &project).await?;
            if standing.is_some_and(|s| s.allows(Resource::Repository, Act::List)) && visible.len() < limit as usize {
                visible.push(r);
            }
        }
        Ok(visible)
    }

    pub async fn get(&self, caller: &Caller, repo: &RepoName) -> Result<RepositoryRecord> {
        self.access.require(&caller.principal, repo.project(), Resource::Repository, Act::Read).await?;
        self.meta
            .repository_record(repo)
            .await
            .map_err(errors::meta)?
            .ok_or_else(|| Error::NotFound(format!("repository {repo} not found")))
    }

    /// Removes the repository from listings and pulls now; storage is
    /// reclaimed by garbage collection.
    pub async fn delete(&self, caller: &Caller, repo: &RepoName) -> Result<()> {
        let standing =
            self.access.require(&caller.principal, repo.project(), Resource::Repository, Act::Delete).await?;
        self.registry.delete_repository(repo).await?;
        self.record(caller, (repo, &standing), repo.to_string(), "repository", "delete").await;
        Ok(())
    }

    pub async fn artifacts(
        &self,
        caller: &Caller,
        repo: &RepoName,
        page: PageRequest,
    ) -> Result<Paged<ArtifactRecord>> {
        self.access.require(&caller.principal, repo.project(), Resource::Artifact, Act::List).await?;
        self.meta.list_artifacts(repo, page).await.map_err(errors::meta)
    }

    async fn resolve(&self, repo: &RepoName, reference: &Reference) -> Result<Digest> {
        let digest = match reference {
            Reference::Digest(d) => Some(d.clone()),
            Reference::Tag(t) => self.meta.tag_target(repo, t).await.map_err(errors::meta)?,
        };
        digest.ok_or_else(|| Error::NotFound(format!("artifact {reference} not found in {repo}")))
    }

    pub async fn artifact(&self, caller: &Caller, repo: &RepoName, reference: &Reference) -> Result<ArtifactRecord> {
        self.access.require(&caller.principal, repo.project(), Resource::Artifact, Act::Read).await?;
        let digest = self.resolve(repo, reference).await?;
        self.meta
            .artifact(repo, &digest)
            .await
            .map_err(errors::meta)?
            .ok_or_else(|| Error::NotFound(format!("artifact {reference} not found in {repo}")))
    }

    /// Deletes an artifact and its tags.
    pub async fn delete_artifact(&self, caller: &Caller, repo: &RepoName, reference: &Reference) -> Result<()> {
        let standing = self.access.require(&caller.principal, repo.project(), Resource::Artifact, Act::Delete).await?;
        let digest = self.resolve(repo, reference).await?;
        self.registry.delete_manifest(repo, &Reference::Digest(digest.clone())).await?;
        self.record(caller, (repo, &standing), format!("{repo}@{digest}"), "artifact", "delete").await;
        Ok(())
    }

    /// Creates a tag on an artifact; refused if the repository has the tag
    /// already, on this artifact or another.
    pub async fn create_tag(&self, caller: &Caller, repo: &RepoName, reference: &Reference, tag: &Tag) -> Result<()> {
        let standing = self.access.require(&caller.principal, repo.project(), Resource::Tag, Act::Create).await?;
        let digest = self.resolve(repo, reference).await?;
        self.registry.create_tag(repo, tag, &digest).await?;
        self.record(caller, (repo, &standing), format!("{repo}:{tag}"), "tag", "create").await;
        Ok(())
    }

    /// Deletes a tag of an artifact; the artifact stays. A tag that points
    /// at another artifact is not found here.
    pub async fn delete_tag(&self, caller: &Caller, repo: &RepoName, reference: &Reference, tag: &Tag) -> Result<()> {
        let standing = self.access.require(&caller.principal, repo.project(), Resource::Tag, Act::Delete).await?;
        let digest = self.resolve(repo, reference).await?;
        if !self.registry.untag(repo, tag, &digest).await? {
            return Err(Error::NotFound(format!("tag {tag} of artifact {reference} not found in {repo}")));
        }
        self.record(caller, (repo, &standing), format!("{repo}:{tag}"), "tag", "delete").await;
        Ok(())
    }
}

//! The port behind the management view of content: repositories with
//! their counts, artifacts with their tags, sizes and times.

use async_trait::async_trait;
use berth_core::{Digest, RepoName, Tag};

use crate::{MetaResult, PageRequest, Paged};

/// A repository as the management API lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct RepositoryRecord {
    pub id: i64,
    pub name: String,
    /// Manifests that are not children of another manifest in the repository.
    pub artifact_count: u64,
    pub pull_count: u64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A tag and when it was last pushed.
#[derive(Debug, Clone, PartialEq)]
pub struct TagRecord {
    pub name: String,
    pub push_time: i64,
}

/// A top-level manifest (image, index or artifact) with what points at it.
#[derive(Debug, Clone, PartialEq)]
pub struct ArtifactRecord {
    pub repository_id: i64,
    pub digest: Digest,
    pub media_type: String,
    pub artifact_type: Option<String>,
    /// The manifest, its blobs and, for an index, its children and theirs.
    pub size: u64,
    pub push_time: i64,
    pub pull_time: Option<i64>,
    pub tags: Vec<TagRecord>,
    /// Child manifests, for an index.
    pub children: Vec<Digest>,
}

/// Pulls of one manifest to add to the counters.
#[derive(Debug, Clone, PartialEq)]
pub struct PullRecord {
    pub repository: RepoName,
    pub digest: Digest,
    pub count: u64,
    pub at: i64,
}

/// What creating a tag came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagCreation {
    Created,
    /// Nothing changed: the repository has this tag already.
    Exists,
    /// Nothing changed: the manifest is not in the repository.
    NoManifest,
}

#[async_trait]
pub trait ArtifactMeta: Send + Sync + 'static {
    /// Repositories named `<project>/...` (all, when `project` is `None`)
    /// whose name contains `name_contains`, by name.
    async fn list_repository_records(
        &self,
        project: Option<&str>,
        name_contains: Option<&str>,
        page: PageRequest,
    ) -> MetaResult<Paged<RepositoryRecord>>;

    async fn repository_record(&self, repo: &RepoName) -> MetaResult<Option<RepositoryRecord>>;

    /// Removes a repository with its manifests, tags and blob links. Blob
    /// bytes stay until garbage collection. False if there was none.
    async fn delete_repository(&self, repo: &RepoName) -> MetaResult<bool>;

    /// Top-level artifacts, newest push first.
    async fn list_artifacts(&self, repo: &RepoName, page: PageRequest) -> MetaResult<Paged<ArtifactRecord>>;

    async fn artifact(&self, repo: &RepoName, digest: &Digest) -> MetaResult<Option<ArtifactRecord>>;

    /// Creates `tag` on a manifest already in the repository. A tag the
    /// repository has already is left where it points, whichever manifest
    /// that is: of two concurrent creations, exactly one succeeds.
    async fn create_tag(&self, repo: &RepoName, tag: &Tag, digest: &Digest) -> MetaResult<TagCreation>;

    /// Deletes `tag` if it points at `digest`; false if it does not (any
    /// more), so a tag moved meanwhile by a push stays.
    async fn untag(&self, repo: &RepoName, tag: &Tag, digest: &Digest) -> MetaResult<bool>;

    /// Adds pulls to repository counters and manifest pull times.
    async fn record_pulls(&self, pulls: &[PullRecord]) -> MetaResult<()>;
}

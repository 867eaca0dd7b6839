//! The registry metadata port.

use async_trait::async_trait;
use berth_core::{Digest, RepoName, Tag};
use bytes::Bytes;

use crate::MetaResult;

/// Something a manifest points at, as its descriptor describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildRef {
    pub digest: Digest,
    /// The size the descriptor claims; what is stored must have it.
    pub size: u64,
}

/// A manifest about to be stored.
#[derive(Debug, Clone)]
pub struct NewManifest {
    pub digest: Digest,
    pub media_type: String,
    pub artifact_type: Option<String>,
    /// The manifest it refers to. It need not exist yet (referrers may be
    /// pushed first), but if it is in the repository its size must match.
    pub subject: Option<ChildRef>,
    /// The manifest's `annotations` object as JSON text, if any.
    pub annotations: Option<String>,
    pub body: Bytes,
    /// Blobs (config, layers) the manifest points at.
    pub blob_refs: Vec<ChildRef>,
    /// Manifests (index children) the manifest points at.
    pub manifest_refs: Vec<ChildRef>,
}

/// A descriptor whose size differs from what is stored under its digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SizeMismatch {
    pub digest: Digest,
    /// What the descriptor says.
    pub claimed: u64,
    /// What the repository holds.
    pub stored: u64,
}

/// What storing a manifest came to.
#[derive(Debug, Clone, PartialEq)]
pub enum ManifestPut {
    Stored,
    /// Nothing was stored: these referenced blobs are not linked in the repository.
    MissingBlobs(Vec<Digest>),
    /// Nothing was stored: these referenced manifests are not in the repository.
    MissingManifests(Vec<Digest>),
    /// Nothing was stored: these references (blobs, child manifests or the
    /// subject) claim sizes other than what the repository holds, in the
    /// order blobs, manifests, subject.
    WrongSizes(Vec<SizeMismatch>),
}

/// A stored manifest, as served to clients.
#[derive(Debug, Clone)]
pub struct ManifestRecord {
    pub digest: Digest,
    pub media_type: String,
    pub body: Bytes,
}

/// A manifest whose `subject` is some digest, as listed by the referrers API.
#[derive(Debug, Clone, PartialEq)]
pub struct Referrer {
    pub digest: Digest,
    pub media_type: String,
    pub size: u64,
    pub artifact_type: Option<String>,
    pub annotations: Option<String>,
}

/// Registry metadata: repositories, blob links, manifests, tags, uploads.
///
/// Repositories come into being with their first blob link or manifest,
/// in the project their name starts with; writes that would create one in a
/// project that does not exist fail with [`crate::MetaError::ProjectMissing`].
#[async_trait]
pub trait RegistryMeta: Send + Sync + 'static {
    /// Repository names after `after` in lexical order, at most `limit`.
    async fn list_repositories(&self, after: Option<&str>, limit: u32) -> MetaResult<Vec<String>>;

    /// Size of a blob known anywhere in the registry.
    async fn blob_size(&self, digest: &Digest) -> MetaResult<Option<u64>>;

    /// Size of a blob if `repo` links it.
    async fn linked_blob_size(&self, repo: &RepoName, digest: &Digest) -> MetaResult<Option<u64>>;

    /// Records a stored blob and links it into `repo`.
    async fn link_blob(&self, repo: &RepoName, digest: &Digest, size: u64) -> MetaResult<()>;

    /// Removes `repo`'s link to a blob; false if there was none.
    async fn unlink_blob(&self, repo: &RepoName, digest: &Digest) -> MetaResult<bool>;

    /// Records an upload session for `repo`.
    async fn create_upload(&self, id: &str, repo: &RepoName) -> MetaResult<()>;

    /// The repository an upload belongs to, if the upload exists.
    async fn upload_repository(&self, id: &str) -> MetaResult<Option<String>>;

    /// Upload sessions created before `before` (unix seconds), at most `limit`.
    async fn uploads_created_before(&self, before: i64, limit: u32) -> MetaResult<Vec<String>>;

    /// Forgets an upload session; false if there was none.
    async fn delete_upload(&self, id: &str) -> MetaResult<bool>;

    /// Stores a manifest (replacing nothing: manifests are immutable) and,
    /// if given, points `tag` at it, in one transaction — unless something
    /// it references is not in the repository at that moment, or is there
    /// with another size than the manifest claims (a stored subject
    /// included). Missing references are reported before wrong sizes.
    async fn put_manifest(&self, repo: &RepoName, manifest: &NewManifest, tag: Option<&Tag>)
        -> MetaResult<ManifestPut>;

    /// A manifest by digest.
    async fn manifest(&self, repo: &RepoName, digest: &Digest) -> MetaResult<Option<ManifestRecord>>;

    /// The digest a tag points at.
    async fn tag_target(&self, repo: &RepoName, tag: &Tag) -> MetaResult<Option<Digest>>;

    /// Deletes a manifest and every tag pointing at it; false if absent.
    async fn delete_manifest(&self, repo: &RepoName, digest: &Digest) -> MetaResult<bool>;

    /// Deletes a tag (not the manifest); false if absent.
    async fn delete_tag(&self, repo: &RepoName, tag: &Tag) -> MetaResult<bool>;

    /// Tags of `repo` after `after` in lexical order, at most `limit`;
    /// `None` if the repository does not exist.
    async fn list_tags(&self, repo: &RepoName, after: Option<&str>, limit: u32) -> MetaResult<Option<Vec<String>>>;

    /// Manifests in `repo` whose subject is `subject`, optionally only those
    /// of one artifact type.
    async fn referrers(
        &self,
        repo: &RepoName,
        subject: &Digest,
        artifact_type: Option<&str>,
    ) -> MetaResult<Vec<Referrer>>;
}

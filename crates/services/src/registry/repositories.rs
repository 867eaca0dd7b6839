//! Changes to content made through the management API rather than the
//! registry protocol: removing a whole repository, tagging a stored manifest.

use berth_core::{Digest, Error, RepoName, Result, Tag};

use super::Registry;
use crate::errors;

impl Registry {
    /// Removes a repository from listings and pulls at once. Its blobs stay
    /// in storage until garbage collection reclaims them.
    pub async fn delete_repository(&self, repo: &RepoName) -> Result<()> {
        let found = self.meta.delete_repository(repo).await.map_err(errors::meta)?;
        self.cache.forget_all();
        if found {
            Ok(())
        } else {
            Err(Error::NotFound(format!("repository {repo} not found")))
        }
    }

    /// Points `tag` at a manifest the repository already holds.
    pub async fn tag_manifest(&self, repo: &RepoName, tag: &Tag, digest: &Digest) -> Result<()> {
        let found = self.meta.tag_manifest(repo, tag, digest).await.map_err(errors::meta)?;
        self.cache.forget_tag(repo, tag);
        if found {
            Ok(())
        } else {
            Err(Error::NotFound(format!("artifact {digest} not found in {repo}")))
        }
    }
}

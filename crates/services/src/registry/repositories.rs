//! Changes to content made through the management API rather than the
//! registry protocol: removing a whole repository, tagging a stored manifest.

use berth_core::{Digest, Error, RepoName, Result, Tag};
use berth_meta::TagCreation;

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

    /// Creates `tag` on a manifest the repository already holds. A tag
    /// the repository has already stays where it points, whichever
    /// artifact that is: of two concurrent creations, one is refused.
    pub async fn create_tag(&self, repo: &RepoName, tag: &Tag, digest: &Digest) -> Result<()> {
        match self.meta.create_tag(repo, tag, digest).await.map_err(errors::meta)? {
            TagCreation::Created => {
                self.cache.forget_tag(repo, tag);
                Ok(())
            }
            TagCreation::Exists => Err(Error::Conflict(format!("tag {tag} already exists in {repo}"))),
            TagCreation::NoManifest => Err(Error::NotFound(format!("artifact {digest} not found in {repo}"))),
        }
    }

    /// Deletes `tag` if it points at `digest`; false if it does not, so a
    /// tag a push has just moved elsewhere stays.
    pub async fn untag(&self, repo: &RepoName, tag: &Tag, digest: &Digest) -> Result<bool> {
        let removed = self.meta.untag(repo, tag, digest).await.map_err(errors::meta)?;
        self.cache.forget_tag(repo, tag);
        Ok(removed)
    }
}

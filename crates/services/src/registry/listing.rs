//! Tag lists, the repository catalog and the referrers index.

use berth_core::media_type::OCI_INDEX;
use berth_core::{Digest, Error, RepoName, Result};
use bytes::Bytes;
use serde_json::{json, Map, Value};

use super::Registry;
use crate::errors;

/// Most entries returned in one page, whatever `n` asks for.
pub const MAX_PAGE: u32 = 1000;

/// Keyset pagination as the distribution spec defines it: at most `n`
/// entries that sort after `last`.
#[derive(Debug, Clone, Default)]
pub struct Page {
    pub n: Option<u32>,
    pub last: Option<String>,
}

/// One page of names, and whether more follow.
#[derive(Debug, Clone)]
pub struct PageResult {
    pub items: Vec<String>,
    /// Set when another page exists; the value to pass as `last` for it.
    pub next_last: Option<String>,
    /// The page size used (after capping), for building the next link.
    pub n: u32,
}

fn paginate(mut items: Vec<String>, n: u32) -> PageResult {
    let more = items.len() > n as usize;
    items.truncate(n as usize);
    let next_last = if more { items.last().cloned() } else { None };
    PageResult { items, next_last, n }
}

impl Page {
    fn limit(&self) -> u32 {
        self.n.unwrap_or(MAX_PAGE).min(MAX_PAGE)
    }
}

impl Registry {
    /// Tags of `repo` in lexical order.
    pub async fn list_tags(&self, repo: &RepoName, page: &Page) -> Result<PageResult> {
        let n = page.limit();
        if n == 0 {
            return Ok(PageResult { items: vec![], next_last: None, n });
        }
        let tags = self.meta.list_tags(repo, page.last.as_deref(), n + 1).await.map_err(errors::meta)?;
        let tags = tags.ok_or_else(|| Error::NameUnknown(format!("repository {repo} is not known to the registry")))?;
        Ok(paginate(tags, n))
    }

    /// Repository names in lexical order.
    pub async fn catalog(&self, page: &Page) -> Result<PageResult> {
        let n = page.limit();
        if n == 0 {
            return Ok(PageResult { items: vec![], next_last: None, n });
        }
        let repos = self.meta.list_repositories(page.last.as_deref(), n + 1).await.map_err(errors::meta)?;
        Ok(paginate(repos, n))
    }

    /// An OCI image index listing the manifests in `repo` whose subject is
    /// `subject`, optionally only those of `artifact_type`.
    pub async fn referrers(&self, repo: &RepoName, subject: &Digest, artifact_type: Option<&str>) -> Result<Bytes> {
        let found = self.meta.referrers(repo, subject, artifact_type).await.map_err(errors::meta)?;
        let manifests: Vec<Value> = found
            .into_iter()
            .map(|r| {
                let mut d = Map::new();
                d.insert("mediaType".into(), r.media_type.into());
                d.insert("digest".into(), r.digest.to_string().into());
                d.insert("size".into(), r.size.into());
                if let Some(t) = r.artifact_type {
                    d.insert("artifactType".into(), t.into());
                }
                if let Some(a) = r.annotations.and_then(|a| serde_json::from_str::<Value>(&a).ok()) {
                    d.insert("annotations".into(), a);
                }
                Value::Object(d)
            })
            .collect();
        let index = json!({ "schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests });
        Ok(Bytes::from(index.to_string()))
    }
}

//! Manifests: fetching with content negotiation, pushing, deleting.

use std::sync::Arc;

use berth_core::media_type::{self, ManifestKind};
use berth_core::{Digest, Error, Reference, RepoName, Result, Tag};
use berth_meta::{ChildRef, ManifestPut, ManifestRecord, NewManifest};
use bytes::Bytes;

use super::descriptor::Descriptor;
use super::manifest_parse::{self, ParsedManifest};
use super::{Registry, MAX_MANIFEST_BYTES};
use crate::errors;

/// The manifest media types a client accepts (from its `Accept` headers).
#[derive(Debug, Clone, Default)]
pub struct Accept(Vec<String>);

impl Accept {
    /// Parses `Accept` header values; parameters such as `q=` are ignored.
    pub fn parse<'a>(headers: impl IntoIterator<Item = &'a str>) -> Accept {
        let types = headers
            .into_iter()
            .flat_map(|h| h.split(','))
            .filter_map(|t| t.split(';').next())
            .map(|t| t.trim().to_ascii_lowercase())
            .filter(|t| !t.is_empty())
            .collect();
        Accept(types)
    }

    /// True if a manifest of `media_type` may be sent. A client that states
    /// no preference accepts anything.
    pub fn allows(&self, media_type: &str) -> bool {
        self.0.is_empty() || self.0.iter().any(|t| t == media_type || t == "*/*" || t == "application/*")
    }
}

/// What a manifest push produced.
#[derive(Debug, Clone)]
pub struct PutManifestOutcome {
    pub digest: Digest,
    /// The manifest's subject, echoed to the client as `OCI-Subject`.
    pub subject: Option<Digest>,
}

fn manifest_unknown(repo: &RepoName, reference: &dyn std::fmt::Display) -> Error {
    Error::ManifestUnknown(format!("manifest {reference} is not in repository {repo}"))
}

impl Registry {
    async fn resolve(&self, repo: &RepoName, reference: &Reference) -> Result<Digest> {
        match reference {
            Reference::Digest(d) => Ok(d.clone()),
            Reference::Tag(tag) => {
                if let Some(d) = self.cache.tag(repo, tag) {
                    return Ok(d);
                }
                let seen = self.cache.generation();
                let d = self.meta.tag_target(repo, tag).await.map_err(errors::meta)?;
                let d = d.ok_or_else(|| manifest_unknown(repo, tag))?;
                self.cache.put_tag(repo, tag, &d, seen);
                Ok(d)
            }
        }
    }

    async fn manifest_by_digest(&self, repo: &RepoName, digest: &Digest) -> Result<Arc<ManifestRecord>> {
        if let Some(m) = self.cache.manifest(repo, digest) {
            return Ok(m);
        }
        let seen = self.cache.generation();
        let m = self.meta.manifest(repo, digest).await.map_err(errors::meta)?;
        let m = Arc::new(m.ok_or_else(|| manifest_unknown(repo, digest))?);
        self.cache.put_manifest(repo, m.clone(), seen);
        Ok(m)
    }

    /// Fetches a manifest in a form the client accepts.
    ///
    /// If a tag names an index the client cannot read, the linux/amd64
    /// image from it is served instead, as older clients expect.
    pub async fn get_manifest(
        &self,
        repo: &RepoName,
        reference: &Reference,
        accept: &Accept,
    ) -> Result<Arc<ManifestRecord>> {
        let digest = self.resolve(repo, reference).await?;
        let m = self.manifest_by_digest(repo, &digest).await?;
        if accept.allows(&m.media_type) {
            return Ok(m);
        }
        let not_acceptable = || {
            Error::ManifestUnknown(format!(
                "manifest {reference} is {}, which the client's Accept header does not allow",
                m.media_type
            ))
        };
        let is_index = media_type::manifest_kind(&m.media_type) == Some(ManifestKind::Index);
        if !is_index || matches!(reference, Reference::Digest(_)) {
            return Err(not_acceptable());
        }
        let parsed = manifest_parse::parse(&m.media_type, &m.body)?;
        let amd64 = parsed.children.iter().find(|c| {
            c.platform.as_ref().is_some_and(|p| p.os == "linux" && p.architecture == "amd64")
                && c.media_type.as_deref().is_some_and(|t| accept.allows(t))
        });
        match amd64 {
            Some(child) => self.manifest_by_digest(repo, &child.digest).await,
            None => Err(not_acceptable()),
        }
    }

    /// Stores a manifest under `reference` (a tag, or the digest the body
    /// must hash to). Everything it points at must already be in `repo`.
    pub async fn put_manifest(
        &self,
        repo: &RepoName,
        reference: &Reference,
        content_type: &str,
        body: Bytes,
    ) -> Result<PutManifestOutcome> {
        if body.len() > MAX_MANIFEST_BYTES {
            return Err(Error::ManifestTooLarge(format!(
                "manifest is {} bytes; the limit is {MAX_MANIFEST_BYTES}",
                body.len()
            )));
        }
        let (digest, tag): (Digest, Option<&Tag>) = match reference {
            Reference::Tag(t) => (Digest::sha256_of(&body), Some(t)),
            Reference::Digest(d) => {
                let actual = Digest::of(d.algorithm(), &body);
                if &actual != d {
                    return Err(Error::DigestInvalid(format!("manifest body has digest {actual}, not {d}")));
                }
                (actual, None)
            }
        };
        let parsed = manifest_parse::parse(content_type, &body)?;
        let child = |d: &Descriptor| ChildRef { digest: d.digest.clone(), size: d.size };
        // Foreign layers live elsewhere; the repository need not hold them.
        let held = parsed.children.iter().filter(|c| !c.foreign).map(child);
        let (blob_refs, manifest_refs) = match parsed.kind {
            ManifestKind::Image => (held.collect(), vec![]),
            ManifestKind::Index => (vec![], held.collect()),
        };
        let record = NewManifest {
            digest: digest.clone(),
            media_type: parsed.media_type.clone(),
            artifact_type: parsed.artifact_type.clone(),
            subject: parsed.subject.as_ref().map(child),
            annotations: parsed.annotations.clone(),
            body,
            blob_refs,
            manifest_refs,
        };
        let put = self.meta.put_manifest(repo, &record, tag).await.map_err(errors::meta)?;
        refusal(repo, &parsed, put)?;
        if let Some(tag) = tag {
            self.cache.forget_tag(repo, tag);
        }
        Ok(PutManifestOutcome { digest, subject: parsed.subject.map(|s| s.digest) })
    }

    /// Deletes a tag, or a manifest (with its tags) by digest.
    pub async fn delete_manifest(&self, repo: &RepoName, reference: &Reference) -> Result<()> {
        let found = match reference {
            Reference::Tag(tag) => {
                let found = self.meta.delete_tag(repo, tag).await.map_err(errors::meta)?;
                self.cache.forget_tag(repo, tag);
                found
            }
            Reference::Digest(d) => {
                let found = self.meta.delete_manifest(repo, d).await.map_err(errors::meta)?;
                self.cache.forget_manifest(repo, d);
                found
            }
        };
        if found {
            Ok(())
        } else {
            Err(manifest_unknown(repo, reference))
        }
    }
}

/// Why the store refused `parsed`, as the client should hear it.
fn refusal(repo: &RepoName, parsed: &ParsedManifest, put: ManifestPut) -> Result<()> {
    let (what, missing) = match put {
        ManifestPut::Stored => return Ok(()),
        ManifestPut::MissingBlobs(missing) => ("manifest references blob", missing),
        ManifestPut::MissingManifests(missing) => ("index references manifest", missing),
        ManifestPut::WrongSizes(wrong) => {
            let Some(first) = wrong.first() else {
                return Err(Error::internal("the store refused a manifest without naming a wrong size"));
            };
            // Any descriptor with this digest and claimed size is wrong in
            // the same way; naming the first is exact enough to fix it.
            let field = parsed
                .descriptors()
                .find(|d| d.digest == first.digest && d.size == first.claimed)
                .map_or("a descriptor", |d| d.field.as_str());
            return Err(Error::ManifestInvalid(format!(
                "{field} claims {} bytes for {}, but repository {repo} holds {} bytes under that digest{}",
                first.claimed,
                first.digest,
                first.stored,
                more(wrong.len())
            )));
        }
    };
    let Some(first) = missing.first() else {
        return Err(Error::internal("the store refused a manifest without naming a missing reference"));
    };
    Err(Error::ManifestBlobUnknown(format!(
        "{what} {first} which is not in repository {repo}{}; push it first",
        more(missing.len())
    )))
}

fn more(n: usize) -> String {
    if n > 1 {
        format!(" (and {} more)", n - 1)
    } else {
        String::new()
    }
}

//! The behaviour every metadata backend must show. Each backend's tests
//! call [`run_all`] on a fresh, empty database.

use berth_core::{Digest, RepoName, Tag};

mod artifacts;
mod credentials;
mod identity;
mod manifest_refs;
mod races;

use crate::{ChildRef, ManifestPut, Meta, NewManifest, NewUser, RegistryMeta, UserSource};

/// A local account to create.
pub(super) fn user(name: &str, email: &str) -> NewUser {
    NewUser {
        username: name.into(),
        email: email.into(),
        realname: format!("{name} person"),
        comment: String::new(),
        password_hash: Some("$argon2id$stub".into()),
        source: UserSource::Local,
        sysadmin: false,
    }
}

/// A robot to create, in `project_id` or system-wide.
pub(super) fn robot(name: &str, project_id: Option<i64>) -> crate::RobotRecord {
    crate::RobotRecord {
        id: 0,
        name: name.into(),
        description: "ci".into(),
        secret_hash: "$argon2id$x".into(),
        project_id,
        disabled: false,
        expires_at: -1,
        permissions: "[]".into(),
        credential_stamp: 0,
        created_at: 0,
        updated_at: 0,
    }
}

pub(super) fn repo(s: &str) -> RepoName {
    s.parse().unwrap()
}

pub(super) fn tag(s: &str) -> Tag {
    s.parse().unwrap()
}

/// A reference to `digest` claiming `size` bytes.
pub(super) fn child(digest: &Digest, size: usize) -> ChildRef {
    ChildRef { digest: digest.clone(), size: size as u64 }
}

pub(super) fn manifest(
    body: &str,
    blobs: Vec<ChildRef>,
    subject: Option<ChildRef>,
    artifact_type: Option<&str>,
) -> NewManifest {
    NewManifest {
        digest: Digest::sha256_of(body.as_bytes()),
        media_type: berth_core::media_type::OCI_MANIFEST.into(),
        artifact_type: artifact_type.map(str::to_owned),
        subject,
        annotations: None,
        body: bytes::Bytes::copy_from_slice(body.as_bytes()),
        blob_refs: blobs,
        manifest_refs: vec![],
    }
}

/// Projects the registry checks below make repositories in.
const PROJECTS: &[&str] = &["links", "m", "pages", "refs", "refcheck", "sizes", "shop", "shopping", "lab"];

/// Runs every check against `meta`.
pub async fn run_all(meta: &dyn Meta) {
    races::first_start_happens_once(meta).await;
    // Before any registry project exists, so project listings are exact.
    identity::run_all(meta).await;
    for name in PROJECTS {
        meta.create_project(name, None, &crate::ProjectSettings::default()).await.unwrap().unwrap();
    }
    repositories_need_their_project(meta).await;
    blob_links_are_per_repository(meta).await;
    uploads(meta).await;
    manifests_and_tags(meta).await;
    manifest_refs::run_all(meta).await;
    tag_pagination(meta).await;
    referrers(meta).await;
    repository_listing(meta).await;
    artifacts::run_all(meta).await;
    credentials::run_all(meta).await;
    races::run_all(meta).await;
}

/// A repository is made only in a project that exists.
async fn repositories_need_their_project(meta: &dyn Meta) {
    let r = repo("nowhere/app");
    let missing = |e| matches!(e, crate::MetaError::ProjectMissing(p) if p == "nowhere");
    assert!(missing(meta.link_blob(&r, &Digest::sha256_of(b"nowhere"), 7).await.unwrap_err()));
    let m = manifest("{\"nowhere\":1}", vec![], None, None);
    assert!(missing(meta.put_manifest(&r, &m, Some(&tag("v1"))).await.unwrap_err()));
    assert_eq!(meta.list_tags(&r, None, 10).await.unwrap(), None, "no repository was made");
    assert!(meta.list_repositories(None, 1000).await.unwrap().iter().all(|name| !name.starts_with("nowhere/")));
}

async fn blob_links_are_per_repository(meta: &dyn RegistryMeta) {
    let (a, b) = (repo("links/a"), repo("links/b"));
    let d = Digest::sha256_of(b"layer");
    assert_eq!(meta.blob_size(&d).await.unwrap(), None);
    meta.link_blob(&a, &d, 5).await.unwrap();
    meta.link_blob(&a, &d, 5).await.unwrap();
    assert_eq!(meta.blob_size(&d).await.unwrap(), Some(5));
    assert_eq!(meta.linked_blob_size(&a, &d).await.unwrap(), Some(5));
    assert_eq!(meta.linked_blob_size(&b, &d).await.unwrap(), None);
    assert!(meta.unlink_blob(&a, &d).await.unwrap());
    assert!(!meta.unlink_blob(&a, &d).await.unwrap());
    assert_eq!(meta.linked_blob_size(&a, &d).await.unwrap(), None);
}

async fn uploads(meta: &dyn RegistryMeta) {
    let id = "0b0a7f4e-6a55-4c4b-9a34-3a9d0e1c2b3d";
    assert_eq!(meta.upload_repository(id).await.unwrap(), None);
    meta.create_upload(id, &repo("up/load")).await.unwrap();
    assert_eq!(meta.upload_repository(id).await.unwrap().as_deref(), Some("up/load"));
    assert!(meta.uploads_created_before(0, 10).await.unwrap().is_empty());
    assert_eq!(meta.uploads_created_before(i64::MAX, 10).await.unwrap(), [id]);
    assert!(meta.delete_upload(id).await.unwrap());
    assert!(!meta.delete_upload(id).await.unwrap());
}

async fn manifests_and_tags(meta: &dyn RegistryMeta) {
    let r = repo("m/app");
    let layer = Digest::sha256_of(b"m-layer");
    meta.link_blob(&r, &layer, 7).await.unwrap();
    let m = manifest("{\"m\":1}", vec![child(&layer, 7)], None, None);
    assert_eq!(meta.put_manifest(&r, &m, Some(&tag("v1"))).await.unwrap(), ManifestPut::Stored);
    assert_eq!(meta.put_manifest(&r, &m, Some(&tag("latest"))).await.unwrap(), ManifestPut::Stored);
    let got = meta.manifest(&r, &m.digest).await.unwrap().expect("stored");
    assert_eq!(got.body, m.body);
    assert_eq!(got.media_type, m.media_type);
    assert_eq!(meta.tag_target(&r, &tag("v1")).await.unwrap(), Some(m.digest.clone()));
    assert_eq!(meta.manifest(&repo("m/other"), &m.digest).await.unwrap().map(|x| x.digest), None);

    let m2 = manifest("{\"m\":2}", vec![], None, None);
    assert_eq!(meta.put_manifest(&r, &m2, Some(&tag("v1"))).await.unwrap(), ManifestPut::Stored);
    assert_eq!(meta.tag_target(&r, &tag("v1")).await.unwrap(), Some(m2.digest.clone()));

    assert!(meta.delete_tag(&r, &tag("v1")).await.unwrap());
    assert!(!meta.delete_tag(&r, &tag("v1")).await.unwrap());
    assert!(meta.manifest(&r, &m2.digest).await.unwrap().is_some());

    assert!(meta.delete_manifest(&r, &m.digest).await.unwrap());
    assert!(!meta.delete_manifest(&r, &m.digest).await.unwrap());
    assert_eq!(meta.tag_target(&r, &tag("latest")).await.unwrap(), None);
    assert!(meta.manifest(&r, &m.digest).await.unwrap().is_none());
}

async fn tag_pagination(meta: &dyn RegistryMeta) {
    let r = repo("pages/app");
    assert_eq!(meta.list_tags(&r, None, 10).await.unwrap(), None);
    let m = manifest("{\"pages\":1}", vec![], None, None);
    for t in ["c", "a", "b", "d"] {
        assert_eq!(meta.put_manifest(&r, &m, Some(&tag(t))).await.unwrap(), ManifestPut::Stored);
    }
    assert_eq!(meta.list_tags(&r, None, 10).await.unwrap().unwrap(), ["a", "b", "c", "d"]);
    assert_eq!(meta.list_tags(&r, None, 2).await.unwrap().unwrap(), ["a", "b"]);
    assert_eq!(meta.list_tags(&r, Some("b"), 2).await.unwrap().unwrap(), ["c", "d"]);
    assert!(meta.list_tags(&r, Some("d"), 2).await.unwrap().unwrap().is_empty());
}

async fn referrers(meta: &dyn RegistryMeta) {
    let r = repo("refs/app");
    let subject = Digest::sha256_of(b"subject");
    let sig = manifest("{\"sig\":1}", vec![], Some(child(&subject, 10)), Some("application/sig"));
    let sbom = manifest("{\"sbom\":1}", vec![], Some(child(&subject, 10)), Some("application/sbom"));
    assert_eq!(meta.put_manifest(&r, &sig, None).await.unwrap(), ManifestPut::Stored);
    assert_eq!(meta.put_manifest(&r, &sbom, None).await.unwrap(), ManifestPut::Stored);
    let all = meta.referrers(&r, &subject, None).await.unwrap();
    assert_eq!(all.len(), 2);
    let only = meta.referrers(&r, &subject, Some("application/sbom")).await.unwrap();
    assert_eq!(only.len(), 1);
    assert_eq!(only[0].digest, sbom.digest);
    assert_eq!(only[0].size, sbom.body.len() as u64);
    assert!(meta.referrers(&repo("refs/other"), &subject, None).await.unwrap().is_empty());
}

async fn repository_listing(meta: &dyn RegistryMeta) {
    let all = meta.list_repositories(None, 100).await.unwrap();
    assert!(all.windows(2).all(|w| w[0] < w[1]), "sorted: {all:?}");
    assert!(all.contains(&"m/app".to_string()));
    let first = meta.list_repositories(None, 1).await.unwrap();
    let next = meta.list_repositories(Some(&first[0]), 1).await.unwrap();
    assert_eq!(next[0], all[1]);
}

//! Repositories and artifacts as the management API sees them.

use berth_core::Digest;

use super::{child, manifest, repo, tag};
use crate::*;

pub(super) async fn run_all(meta: &dyn Meta) {
    listing_counts_and_sizes(meta).await;
    tagging_pulls_and_deletion(meta).await;
}

async fn listing_counts_and_sizes(meta: &dyn Meta) {
    let app = repo("shop/app");
    let (layer, config) = (Digest::sha256_of(b"shop-layer"), Digest::sha256_of(b"shop-config"));
    meta.link_blob(&app, &layer, 1000).await.unwrap();
    meta.link_blob(&app, &config, 10).await.unwrap();
    let image = manifest("{\"shop\":1}", vec![child(&config, 10), child(&layer, 1000)], None, None);
    assert_eq!(meta.put_manifest(&app, &image, Some(&tag("v1"))).await.unwrap(), ManifestPut::Stored);
    let mut index = manifest("{\"shop\":\"index\"}", vec![], None, None);
    index.media_type = berth_core::media_type::OCI_INDEX.into();
    index.manifest_refs = vec![child(&image.digest, image.body.len())];
    assert_eq!(meta.put_manifest(&app, &index, Some(&tag("multi"))).await.unwrap(), ManifestPut::Stored);
    meta.link_blob(&repo("shop/empty"), &layer, 1000).await.unwrap();
    meta.link_blob(&repo("shopping/app"), &layer, 1000).await.unwrap();

    let listed = meta.list_repository_records(Some("shop"), None, PageRequest::ALL).await.unwrap();
    let names: Vec<_> = listed.items.iter().map(|r| (r.name.as_str(), r.artifact_count)).collect();
    assert_eq!(names, [("shop/app", 1), ("shop/empty", 0)], "the image under the index is not its own artifact");
    assert_eq!(meta.list_repository_records(None, Some("ping/"), PageRequest::ALL).await.unwrap().total, 1);

    let artifacts = meta.list_artifacts(&app, PageRequest::ALL).await.unwrap();
    assert_eq!(artifacts.total, 1);
    let a = &artifacts.items[0];
    assert_eq!(a.digest, index.digest);
    assert_eq!(a.children, std::slice::from_ref(&image.digest));
    assert_eq!(a.tags.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), ["multi"]);
    assert_eq!(a.size, (index.body.len() + image.body.len()) as u64 + 1010);
    let single = meta.artifact(&app, &image.digest).await.unwrap().expect("child still addressable");
    assert_eq!((single.size, single.tags.len()), (image.body.len() as u64 + 1010, 1));
}

async fn tagging_pulls_and_deletion(meta: &dyn Meta) {
    let app = repo("lab/app");
    let m = manifest("{\"lab\":1}", vec![], None, None);
    assert_eq!(meta.put_manifest(&app, &m, None).await.unwrap(), ManifestPut::Stored);
    assert_eq!(meta.create_tag(&app, &tag("stable"), &m.digest).await.unwrap(), TagCreation::Created);
    let absent = Digest::sha256_of(b"absent");
    assert_eq!(meta.create_tag(&app, &tag("x"), &absent).await.unwrap(), TagCreation::NoManifest);
    assert_eq!(meta.tag_target(&app, &tag("x")).await.unwrap(), None);
    // A tag that exists is not moved, not even onto another manifest.
    let other = manifest("{\"lab\":2}", vec![], None, None);
    assert_eq!(meta.put_manifest(&app, &other, Some(&tag("other"))).await.unwrap(), ManifestPut::Stored);
    assert_eq!(meta.create_tag(&app, &tag("stable"), &other.digest).await.unwrap(), TagCreation::Exists);
    assert_eq!(meta.create_tag(&app, &tag("stable"), &m.digest).await.unwrap(), TagCreation::Exists);
    assert_eq!(meta.tag_target(&app, &tag("stable")).await.unwrap(), Some(m.digest.clone()));
    // Untagging names the manifest: a tag pointing elsewhere stays.
    assert!(!meta.untag(&app, &tag("stable"), &other.digest).await.unwrap());
    assert!(meta.untag(&app, &tag("other"), &other.digest).await.unwrap());
    assert!(!meta.untag(&app, &tag("other"), &other.digest).await.unwrap());
    assert_eq!(meta.tag_target(&app, &tag("other")).await.unwrap(), None);
    assert_eq!(meta.tag_target(&app, &tag("stable")).await.unwrap(), Some(m.digest.clone()));

    let pull = |count, at| PullRecord { repository: app.clone(), digest: m.digest.clone(), count, at };
    meta.record_pulls(&[pull(2, 500), pull(1, 400)]).await.unwrap();
    assert_eq!(meta.repository_record(&app).await.unwrap().unwrap().pull_count, 3);
    assert_eq!(meta.artifact(&app, &m.digest).await.unwrap().unwrap().pull_time, Some(500));

    assert!(meta.delete_repository(&app).await.unwrap());
    assert!(!meta.delete_repository(&app).await.unwrap());
    assert_eq!(meta.repository_record(&app).await.unwrap(), None);
    assert_eq!(meta.tag_target(&app, &tag("stable")).await.unwrap(), None);
    assert!(meta.manifest(&app, &m.digest).await.unwrap().is_none());
}

//! A manifest is stored only if everything it points at is in the
//! repository, with the sizes its descriptors claim; otherwise nothing is.

use berth_core::Digest;

use super::{child, manifest, repo, tag};
use crate::{ManifestPut, NewManifest, RegistryMeta, SizeMismatch};

pub(super) async fn run_all(meta: &dyn RegistryMeta) {
    manifests_need_their_references(meta).await;
    blob_sizes_must_match(meta).await;
    child_manifest_sizes_must_match(meta).await;
    stored_subject_size_must_match(meta).await;
    missing_is_reported_before_wrong_sizes(meta).await;
}

/// Nothing of `m` is visible, nor `tag`; `fresh` repositories were not created either.
async fn nothing_stored(meta: &dyn RegistryMeta, r: &berth_core::RepoName, m: &NewManifest, t: &str, fresh: bool) {
    assert!(meta.manifest(r, &m.digest).await.unwrap().is_none(), "manifest stored");
    assert_eq!(meta.tag_target(r, &tag(t)).await.unwrap(), None, "tag stored");
    if fresh {
        assert_eq!(meta.list_tags(r, None, 10).await.unwrap(), None, "repository created");
    }
}

fn wrong(digest: &Digest, claimed: u64, stored: u64) -> SizeMismatch {
    SizeMismatch { digest: digest.clone(), claimed, stored }
}

async fn manifests_need_their_references(meta: &dyn RegistryMeta) {
    let r = repo("refcheck/app");
    let layer = Digest::sha256_of(b"refcheck-layer");
    let m = manifest("{\"refcheck\":1}", vec![child(&layer, 14)], None, None);
    let got = meta.put_manifest(&r, &m, Some(&tag("v1"))).await.unwrap();
    assert_eq!(got, ManifestPut::MissingBlobs(vec![layer.clone()]));
    nothing_stored(meta, &r, &m, "v1", true).await;

    meta.link_blob(&r, &layer, 14).await.unwrap();
    assert_eq!(meta.put_manifest(&r, &m, None).await.unwrap(), ManifestPut::Stored);

    let mut index = manifest("{\"refcheck-index\":1}", vec![], None, None);
    let absent = Digest::sha256_of(b"absent child");
    index.manifest_refs = vec![child(&m.digest, m.body.len()), child(&absent, 100)];
    assert_eq!(meta.put_manifest(&r, &index, None).await.unwrap(), ManifestPut::MissingManifests(vec![absent]));
    index.manifest_refs = vec![child(&m.digest, m.body.len())];
    assert_eq!(meta.put_manifest(&r, &index, None).await.unwrap(), ManifestPut::Stored);
}

async fn blob_sizes_must_match(meta: &dyn RegistryMeta) {
    let r = repo("sizes/blobs");
    let (config, layer) = (Digest::sha256_of(b"sizes-config"), Digest::sha256_of(b"sizes-layer"));
    meta.link_blob(&r, &config, 12).await.unwrap();
    meta.link_blob(&r, &layer, 64).await.unwrap();
    let huge = 1_000_000_000_000_000_000;
    let liar = manifest("{\"sizes\":1}", vec![child(&config, 12), child(&layer, huge as usize)], None, None);
    let got = meta.put_manifest(&r, &liar, Some(&tag("v1"))).await.unwrap();
    assert_eq!(got, ManifestPut::WrongSizes(vec![wrong(&layer, huge, 64)]));
    nothing_stored(meta, &r, &liar, "v1", false).await;

    let both = manifest("{\"sizes\":2}", vec![child(&config, 11), child(&layer, 65)], None, None);
    let got = meta.put_manifest(&r, &both, Some(&tag("v1"))).await.unwrap();
    assert_eq!(got, ManifestPut::WrongSizes(vec![wrong(&config, 11, 12), wrong(&layer, 65, 64)]));
    nothing_stored(meta, &r, &both, "v1", false).await;

    let honest = manifest("{\"sizes\":3}", vec![child(&config, 12), child(&layer, 64)], None, None);
    assert_eq!(meta.put_manifest(&r, &honest, Some(&tag("v1"))).await.unwrap(), ManifestPut::Stored);
    assert_eq!(meta.tag_target(&r, &tag("v1")).await.unwrap(), Some(honest.digest));
}

async fn child_manifest_sizes_must_match(meta: &dyn RegistryMeta) {
    let r = repo("sizes/index");
    let image = manifest("{\"sizes-image\":1}", vec![], None, None);
    assert_eq!(meta.put_manifest(&r, &image, None).await.unwrap(), ManifestPut::Stored);
    let len = image.body.len();
    let mut index = manifest("{\"sizes-index\":1}", vec![], None, None);
    index.manifest_refs = vec![child(&image.digest, len + 1)];
    let got = meta.put_manifest(&r, &index, Some(&tag("multi"))).await.unwrap();
    assert_eq!(got, ManifestPut::WrongSizes(vec![wrong(&image.digest, len as u64 + 1, len as u64)]));
    nothing_stored(meta, &r, &index, "multi", false).await;
    index.manifest_refs = vec![child(&image.digest, len)];
    assert_eq!(meta.put_manifest(&r, &index, Some(&tag("multi"))).await.unwrap(), ManifestPut::Stored);
}

async fn stored_subject_size_must_match(meta: &dyn RegistryMeta) {
    let r = repo("sizes/subject");
    let subject = manifest("{\"sizes-subject\":1}", vec![], None, None);
    let len = subject.body.len();
    // Not stored yet: any claimed size is accepted, as referrers may come first.
    let early = manifest("{\"sizes-early\":1}", vec![], Some(child(&subject.digest, len + 5)), None);
    assert_eq!(meta.put_manifest(&r, &early, None).await.unwrap(), ManifestPut::Stored);

    assert_eq!(meta.put_manifest(&r, &subject, None).await.unwrap(), ManifestPut::Stored);
    let liar = manifest("{\"sizes-sig\":1}", vec![], Some(child(&subject.digest, len + 5)), None);
    let got = meta.put_manifest(&r, &liar, Some(&tag("sig"))).await.unwrap();
    assert_eq!(got, ManifestPut::WrongSizes(vec![wrong(&subject.digest, len as u64 + 5, len as u64)]));
    nothing_stored(meta, &r, &liar, "sig", false).await;
    let honest = manifest("{\"sizes-sig\":2}", vec![], Some(child(&subject.digest, len)), None);
    assert_eq!(meta.put_manifest(&r, &honest, Some(&tag("sig"))).await.unwrap(), ManifestPut::Stored);
}

async fn missing_is_reported_before_wrong_sizes(meta: &dyn RegistryMeta) {
    let r = repo("sizes/order");
    let (held, absent) = (Digest::sha256_of(b"order-held"), Digest::sha256_of(b"order-absent"));
    meta.link_blob(&r, &held, 5).await.unwrap();
    let m = manifest("{\"order\":1}", vec![child(&held, 6), child(&absent, 5)], None, None);
    assert_eq!(meta.put_manifest(&r, &m, Some(&tag("v1"))).await.unwrap(), ManifestPut::MissingBlobs(vec![absent]));
    nothing_stored(meta, &r, &m, "v1", false).await;
}

//! A pushed manifest must tell the truth about what it points at: every
//! descriptor's size is the size of what the repository holds, annotations
//! map strings to strings, and only foreign layers that say where they live
//! may point at content the registry does not hold. After every refusal
//! nothing is stored: the tag and the digest both answer 404.

use berth_testkit::oci_http::*;
use reqwest::Method;
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_berth");
const DOCKER_FOREIGN: &str = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
const FOREIGN_TYPES: [&str; 4] = [
    DOCKER_FOREIGN,
    "application/vnd.oci.image.layer.nondistributable.v1.tar",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
    "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
];

/// Pushes `m` as `app:<tag>`, asserts 400 with `code`, and that neither the
/// tag nor the digest was stored. Returns the error message.
async fn refused(reg: &OciClient, tag: &str, m: &Manifest, code: &str) -> String {
    let errors = expect_error(reg.push_manifest("app", tag, m).await, &[400], &[code]).await;
    assert_eq!(errors.errors.len(), 1, "{:?}", errors.errors);
    let all = [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST];
    for reference in [tag, m.digest.as_str()] {
        let get = reg.fetch_manifest(Method::GET, "app", reference, &all).await;
        expect_error(get, &[404], &["MANIFEST_UNKNOWN"]).await;
    }
    errors.errors[0].message.clone()
}

fn assert_names(msg: &str, parts: &[&str]) {
    for p in parts {
        assert!(msg.contains(p), "message lacks {p:?}: {msg}");
    }
}

/// A config and a 64-byte layer, pushed to `app`.
async fn pushed_blobs(reg: &OciClient) -> (Blob, Blob) {
    let (config, layer) = (Blob::config(), Blob::random(64));
    reg.push_blob("app", &config).await;
    reg.push_blob("app", &layer).await;
    (config, layer)
}

/// An image manifest pushed to `app` by digest.
async fn pushed_image(reg: &OciClient) -> Manifest {
    let (config, layer) = pushed_blobs(reg).await;
    let m =
        Manifest::json(OCI_MANIFEST, &image_manifest(&config.descriptor(OCI_CONFIG), &[layer.descriptor(OCI_LAYER)]));
    expect_status(reg.push_manifest("app", &m.digest, &m).await, 201).await;
    m
}

fn sized(mut descriptor: Value, size: u64) -> Value {
    descriptor["size"] = size.into();
    descriptor
}

fn with_urls(mut descriptor: Value) -> Value {
    descriptor["urls"] = json!(["https://example.com/layer.tar.gz"]);
    descriptor
}

#[tokio::test]
async fn layer_size_mismatch_refused() {
    let (_berth, reg) = start_registry(BIN);
    let (config, layer) = pushed_blobs(&reg).await;
    for claimed in [1_000_000_000_000_000_000u64, 65, 63, 0] {
        let layers = [layer.descriptor(OCI_LAYER), sized(layer.descriptor(OCI_LAYER), claimed)];
        let m = Manifest::json(OCI_MANIFEST, &image_manifest(&config.descriptor(OCI_CONFIG), &layers));
        let msg = refused(&reg, "v1", &m, "MANIFEST_INVALID").await;
        assert_names(&msg, &["layers[1]", &format!("claims {claimed} bytes"), "holds 64 bytes", &layer.digest]);
    }
    let honest = image_manifest(&config.descriptor(OCI_CONFIG), &[layer.descriptor(OCI_LAYER)]);
    expect_status(reg.push_manifest("app", "v1", &Manifest::json(OCI_MANIFEST, &honest)).await, 201).await;
}

#[tokio::test]
async fn config_size_mismatch_refused() {
    let (_berth, reg) = start_registry(BIN);
    let (config, layer) = pushed_blobs(&reg).await;
    let real = config.bytes.len() as u64;
    let lying_config = sized(config.descriptor(OCI_CONFIG), real + 1);
    let m = Manifest::json(OCI_MANIFEST, &image_manifest(&lying_config, &[layer.descriptor(OCI_LAYER)]));
    let msg = refused(&reg, "v1", &m, "MANIFEST_INVALID").await;
    assert_names(&msg, &["config", &format!("claims {} bytes", real + 1), &format!("holds {real} bytes")]);
}

#[tokio::test]
async fn index_child_size_mismatch_refused() {
    let (_berth, reg) = start_registry(BIN);
    let (amd, arm) = (pushed_image(&reg).await, pushed_image(&reg).await);
    let mut index = index_manifest(OCI_INDEX, &[(&amd, "amd64"), (&arm, "arm64")]);
    let real = arm.bytes.len() as u64;
    index["manifests"][1]["size"] = (real - 1).into();
    let msg = refused(&reg, "multi", &Manifest::json(OCI_INDEX, &index), "MANIFEST_INVALID").await;
    assert_names(
        &msg,
        &["manifests[1]", &format!("claims {} bytes", real - 1), &format!("holds {real} bytes"), &arm.digest],
    );
    let honest = Manifest::json(OCI_INDEX, &index_manifest(OCI_INDEX, &[(&amd, "amd64"), (&arm, "arm64")]));
    expect_status(reg.push_manifest("app", "multi", &honest).await, 201).await;
}

/// A subject need not exist yet, but one that does must have the size claimed.
#[tokio::test]
async fn stored_subject_size_mismatch_refused() {
    let (_berth, reg) = start_registry(BIN);
    let subject = pushed_image(&reg).await;
    let real = subject.bytes.len() as u64;
    let lying = sized(subject.descriptor(), real + 10);
    let art = reg.artifact("app", lying, Some("application/vnd.example.sig"), OCI_EMPTY, json!({})).await;
    let msg = refused(&reg, "sig", &art, "MANIFEST_INVALID").await;
    assert_names(&msg, &["subject", &format!("claims {} bytes", real + 10), &format!("holds {real} bytes")]);
}

#[tokio::test]
async fn non_string_annotations_refused() {
    let (_berth, reg) = start_registry(BIN);
    let (config, layer) = pushed_blobs(&reg).await;
    let image = image_manifest(&config.descriptor(OCI_CONFIG), &[layer.descriptor(OCI_LAYER)]);
    let child = pushed_image(&reg).await;
    let index = index_manifest(OCI_INDEX, &[(&child, "amd64")]);
    let cases: [(&Value, &str, &str, Value); 8] = [
        (&image, "", "annotations", json!({"org.example.count": 1})),
        (&image, "", "annotations", json!(["org.example.list"])),
        (&image, "/config", "config.annotations", json!({"org.example.flag": true})),
        (&image, "/layers/0", "layers[0].annotations", json!({"org.example.none": null})),
        (&image, "/layers/0", "layers[0].annotations", json!({"org.example.nested": {"a": "b"}})),
        (&image, "/layers/0", "layers[0].annotations", json!("org.example=text")),
        (&index, "", "annotations", json!({"org.example.count": 2})),
        (&index, "/manifests/0", "manifests[0].annotations", json!({"org.example.count": 3})),
    ];
    for (base, at, field, annotations) in cases {
        let mut value = base.clone();
        value.pointer_mut(at).unwrap()["annotations"] = annotations.clone();
        let media_type = value["mediaType"].as_str().unwrap().to_owned();
        let msg = refused(&reg, "annotated", &Manifest::json(&media_type, &value), "MANIFEST_INVALID").await;
        assert!(msg.starts_with(field), "{annotations} at {field}: {msg}");
    }
    // Strings at every level are fine.
    let mut value = image.clone();
    value["annotations"] = json!({"org.example.a": "1"});
    value["layers"][0]["annotations"] = json!({"org.example.b": ""});
    let m = Manifest::json(OCI_MANIFEST, &value);
    expect_status(reg.push_manifest("app", "annotated", &m).await, 201).await;
    reg.assert_manifest("app", "annotated", &m).await;
}

/// `urls` excuses only a foreign layer: an ordinary layer, a config or an
/// index entry that carries them must still be in the repository, and so
/// must a foreign layer that does not say where it lives.
#[tokio::test]
async fn urls_do_not_excuse_missing_content() {
    let (_berth, reg) = start_registry(BIN);
    let (config, layer) = pushed_blobs(&reg).await;
    let absent = Blob::random(64);
    let images = [
        (
            DOCKER_MANIFEST,
            image_manifest(&config.descriptor(DOCKER_CONFIG), &[with_urls(absent.descriptor(DOCKER_LAYER))]),
        ),
        (OCI_MANIFEST, image_manifest(&config.descriptor(OCI_CONFIG), &[with_urls(absent.descriptor(OCI_LAYER))])),
        (OCI_MANIFEST, image_manifest(&with_urls(absent.descriptor(DOCKER_FOREIGN)), &[layer.descriptor(OCI_LAYER)])),
        (OCI_MANIFEST, image_manifest(&config.descriptor(OCI_CONFIG), &[absent.descriptor(DOCKER_FOREIGN)])),
    ];
    for (media_type, mut value) in images {
        value["mediaType"] = media_type.into();
        let msg = refused(&reg, "v1", &Manifest::json(media_type, &value), "MANIFEST_BLOB_UNKNOWN").await;
        assert_names(&msg, &[&absent.digest]);
    }
    let ghost = Manifest::json(OCI_MANIFEST, &image_manifest(&config.descriptor(OCI_CONFIG), &[]));
    let mut index = index_manifest(OCI_INDEX, &[(&ghost, "amd64")]);
    index["manifests"][0] = with_urls(index["manifests"][0].clone());
    let msg = refused(&reg, "multi", &Manifest::json(OCI_INDEX, &index), "MANIFEST_BLOB_UNKNOWN").await;
    assert_names(&msg, &[&ghost.digest]);
}

#[tokio::test]
async fn foreign_layers_with_urls_accepted_without_their_bytes() {
    let (_berth, reg) = start_registry(BIN);
    let (config, layer) = pushed_blobs(&reg).await;
    for (i, foreign_type) in FOREIGN_TYPES.iter().enumerate() {
        let elsewhere = with_urls(Blob::random(1000).descriptor(foreign_type));
        let (media_type, config_type, layer_type) = if *foreign_type == DOCKER_FOREIGN {
            (DOCKER_MANIFEST, DOCKER_CONFIG, DOCKER_LAYER)
        } else {
            (OCI_MANIFEST, OCI_CONFIG, OCI_LAYER)
        };
        let mut value = image_manifest(&config.descriptor(config_type), &[elsewhere, layer.descriptor(layer_type)]);
        value["mediaType"] = media_type.into();
        let m = Manifest::json(media_type, &value);
        let tag = format!("foreign{i}");
        expect_status(reg.push_manifest("app", &tag, &m).await, 201).await;
        reg.assert_manifest("app", &tag, &m).await;
    }
}

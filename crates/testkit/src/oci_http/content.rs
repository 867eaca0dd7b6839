//! Test content: media types, digests, blobs, manifests and image builders.

use rand::Rng;
use serde_json::{json, Value};
use sha2::Digest as _;

/// OCI image manifest media type.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// OCI image index media type.
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// OCI image config media type.
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
/// OCI gzip layer media type.
pub const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
/// The OCI empty descriptor's media type (`{}` as config of an artifact).
pub const OCI_EMPTY: &str = "application/vnd.oci.empty.v1+json";
/// Docker image manifest v2 schema 2.
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Docker manifest list.
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// Docker image config.
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
/// Docker gzip layer.
pub const DOCKER_LAYER: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";

/// `sha256:<hex>` of `bytes`.
pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(bytes)))
}

/// `sha512:<hex>` of `bytes`.
pub fn sha512_digest(bytes: &[u8]) -> String {
    format!("sha512:{}", hex::encode(sha2::Sha512::digest(bytes)))
}

/// `len` random bytes.
pub fn random_bytes(len: usize) -> Vec<u8> {
    let mut v = vec![0u8; len];
    rand::thread_rng().fill(&mut v[..]);
    v
}

/// Content together with its digest.
#[derive(Clone, Debug)]
pub struct Blob {
    pub bytes: Vec<u8>,
    pub digest: String,
}

impl Blob {
    /// Wraps `bytes`, addressed by sha256.
    pub fn new(bytes: impl Into<Vec<u8>>) -> Blob {
        let bytes = bytes.into();
        Blob { digest: sha256_digest(&bytes), bytes }
    }

    /// Wraps `bytes`, addressed by sha512.
    pub fn sha512(bytes: impl Into<Vec<u8>>) -> Blob {
        let bytes = bytes.into();
        Blob { digest: sha512_digest(&bytes), bytes }
    }

    /// `len` random bytes (so every test gets content no other test has).
    pub fn random(len: usize) -> Blob {
        Blob::new(random_bytes(len))
    }

    /// An image config blob unique to this call.
    pub fn config() -> Blob {
        let nonce = hex::encode(random_bytes(8));
        Blob::new(
            serde_json::to_vec(&json!({
                "architecture": "amd64", "os": "linux",
                "config": {"Labels": {"nonce": nonce}},
                "rootfs": {"type": "layers", "diff_ids": []}
            }))
            .expect("config json"),
        )
    }

    /// A descriptor of this blob with `media_type`.
    pub fn descriptor(&self, media_type: &str) -> Value {
        json!({"mediaType": media_type, "digest": self.digest, "size": self.bytes.len()})
    }
}

/// A manifest as exact bytes, with its digest and media type.
#[derive(Clone, Debug)]
pub struct Manifest {
    pub media_type: String,
    pub bytes: Vec<u8>,
    pub digest: String,
}

impl Manifest {
    /// Exact `bytes` sent with `media_type` as Content-Type.
    pub fn raw(media_type: &str, bytes: impl Into<Vec<u8>>) -> Manifest {
        let bytes = bytes.into();
        Manifest { media_type: media_type.into(), digest: sha256_digest(&bytes), bytes }
    }

    /// Pretty-printed JSON, so a registry that re-serializes would change the digest.
    pub fn json(media_type: &str, value: &Value) -> Manifest {
        Manifest::raw(media_type, serde_json::to_vec_pretty(value).expect("manifest json"))
    }

    /// A descriptor of this manifest.
    pub fn descriptor(&self) -> Value {
        json!({"mediaType": self.media_type, "digest": self.digest, "size": self.bytes.len()})
    }
}

/// An OCI image manifest value for `config` and `layers`; tests add fields
/// such as `subject`, `artifactType` or `annotations` before serializing.
pub fn image_manifest(config: &Value, layers: &[Value]) -> Value {
    json!({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": config, "layers": layers})
}

/// An index value (OCI or Docker list, by `media_type`) over `manifests`,
/// each given a linux platform with the paired architecture.
pub fn index_manifest(media_type: &str, manifests: &[(&Manifest, &str)]) -> Value {
    let entries: Vec<Value> = manifests
        .iter()
        .map(|(m, arch)| {
            let mut d = m.descriptor();
            d["platform"] = json!({"os": "linux", "architecture": arch});
            d
        })
        .collect();
    json!({"schemaVersion": 2, "mediaType": media_type, "manifests": entries})
}

/// An OCI image manifest for `image`'s blobs, padded with an annotation so
/// its serialized form is exactly `len` bytes (for size-limit tests).
pub fn padded_manifest(image: &Image, len: usize) -> Manifest {
    let mut value = image_manifest(&image.config.descriptor(OCI_CONFIG), &[image.layer.descriptor(OCI_LAYER)]);
    value["annotations"] = json!({"org.example.padding": ""});
    let bare = serde_json::to_vec(&value).expect("json").len();
    assert!(len >= bare, "{len} bytes is too small for a manifest");
    value["annotations"]["org.example.padding"] = Value::String("a".repeat(len - bare));
    let bytes = serde_json::to_vec(&value).expect("json");
    assert_eq!(bytes.len(), len);
    Manifest::raw(OCI_MANIFEST, bytes)
}

/// Blobs and manifest of an image pushed by [`OciClient::push_image`].
#[derive(Clone, Debug)]
pub struct Image {
    pub config: Blob,
    pub layer: Blob,
    pub manifest: Manifest,
}

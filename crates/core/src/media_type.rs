//! Manifest media types Berth understands.

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const DOCKER_SCHEMA1: &str = "application/vnd.docker.distribution.manifest.v1+json";
pub const DOCKER_SCHEMA1_SIGNED: &str = "application/vnd.docker.distribution.manifest.v1+prettyjws";
pub const OCI_EMPTY_JSON: &str = "application/vnd.oci.empty.v1+json";

/// Docker's foreign layer: its bytes are fetched from `urls`, not the registry.
pub const DOCKER_FOREIGN_LAYER: &str = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
/// OCI non-distributable layers (deprecated in image-spec 1.1, still pushed).
pub const OCI_NONDISTRIBUTABLE_LAYER: &str = "application/vnd.oci.image.layer.nondistributable.v1.tar";
pub const OCI_NONDISTRIBUTABLE_LAYER_GZIP: &str = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
pub const OCI_NONDISTRIBUTABLE_LAYER_ZSTD: &str = "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd";

/// The two shapes a manifest can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManifestKind {
    /// Points at a config blob and layer blobs.
    Image,
    /// Points at other manifests.
    Index,
}

/// The kind of a supported manifest media type, or `None` if unsupported.
pub fn manifest_kind(media_type: &str) -> Option<ManifestKind> {
    match media_type {
        OCI_MANIFEST | DOCKER_MANIFEST => Some(ManifestKind::Image),
        OCI_INDEX | DOCKER_MANIFEST_LIST => Some(ManifestKind::Index),
        _ => None,
    }
}

/// True for the legacy Docker schema 1 types Berth refuses.
pub fn is_schema1(media_type: &str) -> bool {
    matches!(media_type, DOCKER_SCHEMA1 | DOCKER_SCHEMA1_SIGNED | "application/json")
}

/// True for the layer media types whose bytes may live outside the
/// registry. Only these may be pushed without the registry holding them,
/// and only when they name where they live (`urls`).
pub fn is_foreign_layer(media_type: &str) -> bool {
    matches!(
        media_type,
        DOCKER_FOREIGN_LAYER
            | OCI_NONDISTRIBUTABLE_LAYER
            | OCI_NONDISTRIBUTABLE_LAYER_GZIP
            | OCI_NONDISTRIBUTABLE_LAYER_ZSTD
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn foreign_layers_are_exactly_the_non_distributable_types() {
        for t in [
            DOCKER_FOREIGN_LAYER,
            OCI_NONDISTRIBUTABLE_LAYER,
            OCI_NONDISTRIBUTABLE_LAYER_GZIP,
            OCI_NONDISTRIBUTABLE_LAYER_ZSTD,
        ] {
            assert!(is_foreign_layer(t), "{t}");
        }
        for t in [
            "application/vnd.oci.image.layer.v1.tar+gzip",
            "application/vnd.docker.image.rootfs.diff.tar.gzip",
            "application/vnd.oci.image.config.v1+json",
            OCI_MANIFEST,
            "",
        ] {
            assert!(!is_foreign_layer(t), "{t}");
        }
    }
}

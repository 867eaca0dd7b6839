//! Parsing and checking a pushed manifest body.

use berth_core::media_type::{self, ManifestKind};
use berth_core::{Digest, Error, Result};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawDescriptor {
    media_type: Option<String>,
    digest: String,
    size: i64,
    #[serde(default)]
    urls: Vec<String>,
    platform: Option<Platform>,
}

/// The platform of an index entry.
#[derive(Deserialize, Clone, Debug, PartialEq)]
pub(super) struct Platform {
    pub(super) architecture: String,
    pub(super) os: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawManifest {
    schema_version: Option<i64>,
    media_type: Option<String>,
    artifact_type: Option<String>,
    config: Option<RawDescriptor>,
    layers: Option<Vec<RawDescriptor>>,
    manifests: Option<Vec<RawDescriptor>>,
    subject: Option<RawDescriptor>,
    annotations: Option<serde_json::Map<String, serde_json::Value>>,
}

/// A descriptor whose digest and size have been checked.
#[derive(Debug, Clone)]
pub(super) struct Descriptor {
    pub(super) media_type: Option<String>,
    pub(super) digest: Digest,
    pub(super) platform: Option<Platform>,
    /// Foreign layers live elsewhere (`urls`); the registry need not hold them.
    pub(super) foreign: bool,
}

/// A manifest body understood well enough to store and serve it.
#[derive(Debug)]
pub(super) struct ParsedManifest {
    pub(super) media_type: String,
    pub(super) kind: ManifestKind,
    /// `artifactType`, or for image manifests without one, the config's media type.
    pub(super) artifact_type: Option<String>,
    pub(super) subject: Option<Digest>,
    pub(super) annotations: Option<String>,
    /// Config and layers, or index entries.
    pub(super) children: Vec<Descriptor>,
}

fn invalid(msg: impl Into<String>) -> Error {
    Error::ManifestInvalid(msg.into())
}

fn descriptor(raw: RawDescriptor, field: &str) -> Result<Descriptor> {
    let digest = raw.digest.parse::<Digest>().map_err(|e| invalid(format!("{field}: {e}")))?;
    if raw.size < 0 {
        return Err(invalid(format!("{field}: size must not be negative")));
    }
    Ok(Descriptor { media_type: raw.media_type, digest, platform: raw.platform, foreign: !raw.urls.is_empty() })
}

fn schema1_refused() -> Error {
    invalid("Docker schema 1 manifests are not supported; push with a current client (schema 2 or OCI)")
}

/// Parses `body`, sent with `content_type` (may be empty), into a manifest.
pub(super) fn parse(content_type: &str, body: &[u8]) -> Result<ParsedManifest> {
    let content_type = content_type.split(';').next().unwrap_or("").trim();
    if media_type::is_schema1(content_type) && content_type != "application/json" {
        return Err(schema1_refused());
    }
    let raw: RawManifest = serde_json::from_slice(body)
        .map_err(|e| invalid(format!("manifest is not valid JSON of the expected shape: {e}")))?;
    if raw.schema_version == Some(1) {
        return Err(schema1_refused());
    }
    if raw.schema_version != Some(2) {
        return Err(invalid("schemaVersion must be 2"));
    }
    let declared = raw.media_type.as_deref().filter(|s| !s.is_empty());
    let header = Some(content_type).filter(|s| !s.is_empty() && *s != "application/json");
    if let (Some(d), Some(h)) = (declared, header) {
        if d != h {
            return Err(invalid(format!("mediaType {d:?} in the body differs from Content-Type {h:?}")));
        }
    }
    let media_type = match declared.or(header) {
        Some(m) => m.to_owned(),
        None if raw.manifests.is_some() => media_type::OCI_INDEX.to_owned(),
        None => media_type::OCI_MANIFEST.to_owned(),
    };
    let kind = media_type::manifest_kind(&media_type)
        .ok_or_else(|| Error::Unsupported(format!("manifest media type {media_type:?} is not supported")))?;

    let (children, artifact_type) = match kind {
        ManifestKind::Image => {
            let config = raw.config.ok_or_else(|| invalid("an image manifest needs a config descriptor"))?;
            let layers = raw.layers.ok_or_else(|| invalid("an image manifest needs a layers array"))?;
            let config = descriptor(config, "config")?;
            let artifact_type = raw.artifact_type.clone().or_else(|| config.media_type.clone());
            let mut children = vec![config];
            for (i, l) in layers.into_iter().enumerate() {
                children.push(descriptor(l, &format!("layers[{i}]"))?);
            }
            (children, artifact_type)
        }
        ManifestKind::Index => {
            let entries = raw.manifests.ok_or_else(|| invalid("an index needs a manifests array"))?;
            let children = entries
                .into_iter()
                .enumerate()
                .map(|(i, m)| descriptor(m, &format!("manifests[{i}]")))
                .collect::<Result<Vec<_>>>()?;
            (children, raw.artifact_type.clone())
        }
    };
    let subject = raw.subject.map(|s| descriptor(s, "subject")).transpose()?.map(|d| d.digest);
    let annotations = raw.annotations.filter(|a| !a.is_empty()).map(|a| serde_json::Value::Object(a).to_string());
    Ok(ParsedManifest { media_type, kind, artifact_type, subject, annotations, children })
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    fn image(extra: &str) -> String {
        format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
               "config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{D}","size":0}},
               "layers":[{{"mediaType":"x","digest":"{D}","size":0}}]{extra}}}"#
        )
    }

    #[test]
    fn parses_image_manifest() {
        let m = parse(media_type::OCI_MANIFEST, image("").as_bytes()).unwrap();
        assert_eq!(m.kind, ManifestKind::Image);
        assert_eq!(m.children.len(), 2);
        assert_eq!(m.artifact_type.as_deref(), Some("application/vnd.oci.image.config.v1+json"));
    }

    #[test]
    fn artifact_type_and_subject() {
        let extra = format!(
            r#","artifactType":"application/sig","subject":{{"digest":"{D}","size":1}},"annotations":{{"a":"b"}}"#
        );
        let m = parse("", image(&extra).as_bytes()).unwrap();
        assert_eq!(m.artifact_type.as_deref(), Some("application/sig"));
        assert_eq!(m.subject.unwrap().to_string(), D);
        assert_eq!(m.annotations.as_deref(), Some(r#"{"a":"b"}"#));
    }

    #[test]
    fn refuses_bad_manifests() {
        let cases: Vec<(&str, String)> = vec![
            (media_type::DOCKER_SCHEMA1_SIGNED, "{}".into()),
            ("", r#"{"schemaVersion":1,"fsLayers":[]}"#.into()),
            ("", "not json".into()),
            ("", r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}"#.into()),
            (media_type::DOCKER_MANIFEST, image("")),
            ("", image("").replace(D, "sha256:123")),
            ("", image("").replace("\"size\":0}]", "\"size\":-1}]")),
        ];
        for (ct, body) in cases {
            assert!(parse(ct, body.as_bytes()).is_err(), "accepted {ct} {body}");
        }
    }
}

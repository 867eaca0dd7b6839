//! Parsing and checking a pushed manifest body.

use berth_core::media_type::{self, ManifestKind};
use berth_core::{Error, Result};
use serde::Deserialize;
use serde_json::Value;

use super::descriptor::{self, invalid, Descriptor, Place, RawDescriptor};

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
    annotations: Option<Value>,
}

/// A manifest body understood well enough to store and serve it.
#[derive(Debug)]
pub(super) struct ParsedManifest {
    pub(super) media_type: String,
    pub(super) kind: ManifestKind,
    /// `artifactType`, or for image manifests without one, the config's media type.
    pub(super) artifact_type: Option<String>,
    pub(super) subject: Option<Descriptor>,
    /// The manifest's `annotations` (checked to be string to string) as JSON text.
    pub(super) annotations: Option<String>,
    /// Config and layers, or index entries.
    pub(super) children: Vec<Descriptor>,
}

impl ParsedManifest {
    /// Every descriptor: children in order, then the subject.
    pub(super) fn descriptors(&self) -> impl Iterator<Item = &Descriptor> {
        self.children.iter().chain(&self.subject)
    }
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
            let config = descriptor::check(config, "config".into(), Place::Other)?;
            let artifact_type = raw.artifact_type.clone().or_else(|| config.media_type.clone());
            let mut children = vec![config];
            for (i, l) in layers.into_iter().enumerate() {
                children.push(descriptor::check(l, format!("layers[{i}]"), Place::Layer)?);
            }
            (children, artifact_type)
        }
        ManifestKind::Index => {
            let entries = raw.manifests.ok_or_else(|| invalid("an index needs a manifests array"))?;
            let children = entries
                .into_iter()
                .enumerate()
                .map(|(i, m)| descriptor::check(m, format!("manifests[{i}]"), Place::Other))
                .collect::<Result<Vec<_>>>()?;
            (children, raw.artifact_type.clone())
        }
    };
    let subject = raw.subject.map(|s| descriptor::check(s, "subject".into(), Place::Other)).transpose()?;
    let annotations = descriptor::annotations(raw.annotations, "annotations")?;
    let annotations = annotations.filter(|a| !a.is_empty()).map(|a| Value::Object(a).to_string());
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
        assert_eq!(m.subject.unwrap().digest.to_string(), D);
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

    const CONFIG: &str = "application/vnd.oci.image.config.v1+json";
    const LAYER: &str = "application/vnd.oci.image.layer.v1.tar+gzip";

    fn desc(media_type: &str, size: u64) -> serde_json::Value {
        serde_json::json!({"mediaType": media_type, "digest": D, "size": size})
    }

    fn with_urls(mut d: serde_json::Value) -> serde_json::Value {
        d["urls"] = serde_json::json!(["https://example.com/layer"]);
        d
    }

    fn image_of(config: serde_json::Value, layers: Vec<serde_json::Value>) -> serde_json::Value {
        serde_json::json!({"schemaVersion": 2, "mediaType": media_type::OCI_MANIFEST, "config": config, "layers": layers})
    }

    fn index_of(entries: Vec<serde_json::Value>) -> serde_json::Value {
        serde_json::json!({"schemaVersion": 2, "mediaType": media_type::OCI_INDEX, "manifests": entries})
    }

    fn parse_value(v: &serde_json::Value) -> Result<ParsedManifest> {
        parse("", &serde_json::to_vec(v).unwrap())
    }

    fn refusal(v: &serde_json::Value) -> String {
        match parse_value(v) {
            Err(Error::ManifestInvalid(msg)) => msg,
            other => panic!("expected MANIFEST_INVALID for {v}, got {other:?}"),
        }
    }

    #[test]
    fn descriptors_say_where_they_are_and_what_size_they_claim() {
        let mut v = image_of(desc(CONFIG, 7), vec![desc(LAYER, 1_000_000_000_000_000_000), desc(LAYER, 3)]);
        v["subject"] = desc(media_type::OCI_MANIFEST, 11);
        let m = parse_value(&v).unwrap();
        let seen: Vec<(&str, u64)> = m.descriptors().map(|d| (d.field.as_str(), d.size)).collect();
        assert_eq!(seen, [("config", 7), ("layers[0]", 1_000_000_000_000_000_000), ("layers[1]", 3), ("subject", 11)]);
        let index = parse_value(&index_of(vec![desc(media_type::OCI_MANIFEST, 5)])).unwrap();
        assert_eq!(index.children[0].field, "manifests[0]");
        assert_eq!(index.children[0].size, 5);
    }

    #[test]
    fn only_foreign_layers_with_urls_are_exempt() {
        let foreign_types = [
            media_type::DOCKER_FOREIGN_LAYER,
            media_type::OCI_NONDISTRIBUTABLE_LAYER,
            media_type::OCI_NONDISTRIBUTABLE_LAYER_GZIP,
            media_type::OCI_NONDISTRIBUTABLE_LAYER_ZSTD,
        ];
        let mut layers: Vec<_> = foreign_types.iter().map(|t| with_urls(desc(t, 1))).collect();
        layers.push(desc(media_type::DOCKER_FOREIGN_LAYER, 1)); // foreign type, no urls
        layers.push(with_urls(desc(LAYER, 1))); // urls on an ordinary layer
        layers.push(with_urls(serde_json::json!({"digest": D, "size": 1}))); // urls, no media type
        let config = with_urls(desc(media_type::DOCKER_FOREIGN_LAYER, 1));
        let m = parse_value(&image_of(config, layers)).unwrap();
        let foreign: Vec<bool> = m.children.iter().map(|c| c.foreign).collect();
        assert_eq!(foreign, [false, true, true, true, true, false, false, false]);

        let entry = with_urls(desc(media_type::DOCKER_FOREIGN_LAYER, 1));
        let index = parse_value(&index_of(vec![entry.clone()])).unwrap();
        assert!(!index.children[0].foreign, "an index entry is never foreign");
        let mut v = image_of(desc(CONFIG, 1), vec![]);
        v["subject"] = entry;
        assert!(!parse_value(&v).unwrap().subject.unwrap().foreign, "a subject is never foreign");
    }

    #[test]
    fn annotations_must_map_strings_to_strings() {
        use serde_json::json;
        let bad_values = [json!({"a": 1}), json!({"a": "ok", "b": true}), json!({"a": null}), json!({"a": {"b": "c"}})];
        let bad_shapes = [json!(["a"]), json!("a=b"), json!(5)];
        for bad in bad_values.iter().chain(&bad_shapes) {
            let mut top = image_of(desc(CONFIG, 1), vec![desc(LAYER, 1)]);
            top["annotations"] = bad.clone();
            assert!(refusal(&top).starts_with("annotations"), "{}", refusal(&top));
            for (path, field) in [("/config", "config"), ("/layers/0", "layers[0]")] {
                let mut v = image_of(desc(CONFIG, 1), vec![desc(LAYER, 1)]);
                v.pointer_mut(path).unwrap()["annotations"] = bad.clone();
                let msg = refusal(&v);
                assert!(msg.starts_with(&format!("{field}.annotations")), "{msg}");
            }
            let mut entry = desc(media_type::OCI_MANIFEST, 1);
            entry["annotations"] = bad.clone();
            assert!(refusal(&index_of(vec![entry.clone()])).starts_with("manifests[0].annotations"));
            let mut v = image_of(desc(CONFIG, 1), vec![]);
            v["subject"] = entry;
            assert!(refusal(&v).starts_with("subject.annotations"));
        }
        let msg = refusal(&{
            let mut v = image_of(desc(CONFIG, 1), vec![]);
            v["annotations"] = json!({"org.example.count": 3});
            v
        });
        assert_eq!(msg, r#"annotations["org.example.count"] must be a string, not a number"#);

        for ok in [json!({"a": "b", "c": ""}), json!({}), json!(null)] {
            let mut v = image_of(desc(CONFIG, 1), vec![desc(LAYER, 1)]);
            v["annotations"] = ok.clone();
            v["layers"][0]["annotations"] = ok.clone();
            let m = parse_value(&v).unwrap();
            let expected =
                ok.as_object().filter(|o| !o.is_empty()).map(|o| serde_json::Value::Object(o.clone()).to_string());
            assert_eq!(m.annotations, expected);
        }
    }
}

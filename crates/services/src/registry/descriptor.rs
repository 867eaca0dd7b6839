//! Descriptors inside a pushed manifest: what they point at, the size they
//! claim, and whether the registry must hold what they point at.

use berth_core::media_type;
use berth_core::{Digest, Error, Result};
use serde::Deserialize;
use serde_json::{Map, Value};

/// A descriptor as it appears in the JSON body.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RawDescriptor {
    media_type: Option<String>,
    digest: String,
    size: i64,
    #[serde(default)]
    urls: Vec<String>,
    platform: Option<Platform>,
    annotations: Option<Value>,
}

/// The platform of an index entry.
#[derive(Deserialize, Clone, Debug, PartialEq)]
pub(super) struct Platform {
    pub(super) architecture: String,
    pub(super) os: String,
}

/// Where a descriptor sits in its manifest; only `layers` entries may be
/// foreign.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Place {
    Layer,
    /// The config, an index entry or the subject.
    Other,
}

/// A descriptor whose digest, size and annotations have been checked.
#[derive(Debug, Clone)]
pub(super) struct Descriptor {
    /// Its path in the manifest (`config`, `layers[0]`, `manifests[1]`,
    /// `subject`), so a refusal can say which one is wrong.
    pub(super) field: String,
    pub(super) media_type: Option<String>,
    pub(super) digest: Digest,
    /// The size it claims for what it points at.
    pub(super) size: u64,
    pub(super) platform: Option<Platform>,
    /// A foreign (non-distributable) layer that says where it lives: the
    /// registry need not hold it. Any other descriptor carrying `urls` is
    /// held to the same rules as one without, or a pusher could point a
    /// config or an ordinary layer at bytes the registry never checked.
    pub(super) foreign: bool,
}

pub(super) fn invalid(msg: impl Into<String>) -> Error {
    Error::ManifestInvalid(msg.into())
}

/// A short, quoted form of client text for messages.
fn quoted(s: &str) -> String {
    format!("{:?}", s.chars().take(80).collect::<String>())
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Checks that `value` (the `annotations` at `field`) is an object of
/// string to string, as the image spec requires; clients reading it back
/// (the referrers list serves manifest annotations) decode it as such.
/// An absent or `null` value means no annotations.
pub(super) fn annotations(value: Option<Value>, field: &str) -> Result<Option<Map<String, Value>>> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(map)) => match map.iter().find(|(_, v)| !v.is_string()) {
            Some((k, v)) => Err(invalid(format!("{field}[{}] must be a string, not {}", quoted(k), json_kind(v)))),
            None => Ok(Some(map)),
        },
        Some(other) => Err(invalid(format!("{field} must be an object of string values, not {}", json_kind(&other)))),
    }
}

/// Checks `raw`, found at `field` (in `place`).
pub(super) fn check(raw: RawDescriptor, field: String, place: Place) -> Result<Descriptor> {
    let digest = raw.digest.parse::<Digest>().map_err(|e| invalid(format!("{field}: {e}")))?;
    let size = u64::try_from(raw.size).map_err(|_| invalid(format!("{field}: size must not be negative")))?;
    annotations(raw.annotations, &format!("{field}.annotations"))?;
    let foreign = place == Place::Layer
        && raw.media_type.as_deref().is_some_and(media_type::is_foreign_layer)
        && !raw.urls.is_empty();
    Ok(Descriptor { field, media_type: raw.media_type, digest, size, platform: raw.platform, foreign })
}

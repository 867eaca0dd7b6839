//! A thin HTTP client for driving a registry at the protocol level in tests:
//! blob uploads in every flavour the OCI Distribution Spec allows, manifest
//! pushes and pulls, OCI error-body assertions, and a raw TCP escape hatch
//! for requests no well-behaved client would send.

use std::time::Duration;

use bytes::Bytes;
use futures::Stream;
use rand::{Rng, SeedableRng};
use reqwest::{Method, RequestBuilder, Response, Url};
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::Digest as _;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

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

/// One entry of an OCI error body.
#[derive(Debug, Deserialize)]
pub struct OciError {
    pub code: String,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub detail: Value,
}

/// The OCI error body: `{"errors":[{"code","message","detail"}]}`.
#[derive(Debug, Deserialize)]
pub struct OciErrors {
    pub errors: Vec<OciError>,
}

/// A header value as a string, if present and valid UTF-8.
pub fn header(resp: &Response, name: &str) -> Option<String> {
    resp.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

/// The status a response carries, as a number (for tables of expectations).
pub fn status(resp: &Response) -> u16 {
    resp.status().as_u16()
}

/// Panics unless `resp` has `status`; the message carries the body.
pub async fn expect_status(resp: Response, status: u16) -> Response {
    if resp.status().as_u16() != status {
        let (url, got) = (resp.url().clone(), resp.status());
        let body = resp.text().await.unwrap_or_default();
        panic!("{url}: expected {status}, got {got}; body: {body}");
    }
    resp
}

/// Panics unless `resp` has one of `statuses` and an OCI error body with one
/// of `codes`, each error carrying a code made of `A-Z` and `_` only.
pub async fn expect_error(resp: Response, statuses: &[u16], codes: &[&str]) -> OciErrors {
    let (url, status) = (resp.url().clone(), resp.status().as_u16());
    let body = resp.text().await.unwrap_or_default();
    assert!(statuses.contains(&status), "{url}: expected one of {statuses:?}, got {status}; body: {body}");
    let parsed: OciErrors = serde_json::from_str(&body)
        .unwrap_or_else(|e| panic!("{url}: error body is not an OCI error document ({e}): {body}"));
    assert!(!parsed.errors.is_empty(), "{url}: empty error list: {body}");
    for e in &parsed.errors {
        assert!(
            !e.code.is_empty() && e.code.bytes().all(|b| b.is_ascii_uppercase() || b == b'_'),
            "{url}: malformed error code {:?}",
            e.code
        );
    }
    assert!(
        parsed.errors.iter().any(|e| codes.contains(&e.code.as_str())),
        "{url}: expected an error code in {codes:?}; body: {body}"
    );
    parsed
}

/// The target of a `Link: <url>; rel="next"` header, if the response has one.
pub fn next_link(resp: &Response) -> Option<String> {
    let link = header(resp, "Link")?;
    assert!(link.contains("rel=\"next\""), "Link header without rel=\"next\": {link}");
    let start = link.find('<')? + 1;
    let end = link.find('>')?;
    Some(link[start..end].to_owned())
}

/// Asserts an oversized body was refused: 413, or 400 with a size-related
/// code. A server that answers before reading the body and closes makes
/// hyper report a failed body write instead; that is accepted too, since
/// nothing was stored either way (callers check).
pub async fn expect_too_large(result: reqwest::Result<Response>) {
    match result {
        Ok(resp) if status(&resp) == 413 => {}
        Ok(resp) => {
            expect_error(resp, &[400], &["MANIFEST_INVALID", "SIZE_INVALID"]).await;
        }
        Err(e) => assert!(e.is_request() && !e.is_connect() && !e.is_timeout(), "unexpected failure: {e:?}"),
    }
}

/// Parses an upload `Range: 0-<end>` header into the number of bytes stored.
///
/// `0-0` is ambiguous in the wild (Docker's registry sends it for an empty
/// upload); callers that know nothing was sent treat it as zero.
pub fn upload_offset(range: &str) -> u64 {
    let end = range.strip_prefix("0-").unwrap_or_else(|| panic!("Range {range:?} lacks the 0- prefix"));
    end.parse::<u64>().unwrap_or_else(|_| panic!("Range {range:?} is not 0-<end>")) + 1
}

/// Starts `berth serve` from `bin` (pass `env!("CARGO_BIN_EXE_berth")`) and
/// returns it with a client pointed at it.
pub fn start_registry(bin: &str) -> (crate::Berth, OciClient) {
    let berth = crate::Berth::start(bin).expect("berth starts");
    let client = OciClient::new(&berth.url);
    (berth, client)
}

/// A registry client bound to one base URL.
#[derive(Clone)]
pub struct OciClient {
    http: reqwest::Client,
    base: Url,
}

impl OciClient {
    /// A client for `base_url` (e.g. `http://127.0.0.1:5000`). Connections are
    /// not pooled, so a restarted server never sees a stale socket.
    pub fn new(base_url: &str) -> OciClient {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .connect_timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("http client");
        OciClient { http, base: Url::parse(base_url).expect("base url") }
    }

    /// Resolves a path (`/v2/...`) or a `Location` header, absolute or relative.
    pub fn url(&self, path_or_location: &str) -> Url {
        self.base.join(path_or_location).expect("url")
    }

    /// The origin-form request target (`/path?query`) of a path or
    /// `Location`, for writing requests by hand on a raw socket.
    pub fn request_target(&self, path_or_location: &str) -> String {
        let url = self.url(path_or_location);
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        }
    }

    /// A request to `path_or_location` for anything the methods below do not cover.
    pub fn request(&self, method: Method, path_or_location: &str) -> RequestBuilder {
        self.http.request(method, self.url(path_or_location))
    }

    async fn send(&self, req: RequestBuilder) -> Response {
        req.send().await.expect("request failed at the transport level")
    }

    /// `GET /v2/`.
    pub async fn ping(&self) -> Response {
        self.send(self.request(Method::GET, "/v2/")).await
    }

    /// `POST /v2/<repo>/blobs/uploads/` with an empty body.
    pub async fn start_upload(&self, repo: &str) -> Response {
        let path = format!("/v2/{repo}/blobs/uploads/");
        self.send(self.request(Method::POST, &path).header("Content-Length", "0")).await
    }

    /// Starts an upload and returns its `Location`, asserting 202.
    pub async fn upload_location(&self, repo: &str) -> String {
        let resp = expect_status(self.start_upload(repo).await, 202).await;
        header(&resp, "Location").expect("202 without Location")
    }

    /// Single-request monolithic upload: `POST ?digest=` with the content.
    pub async fn upload_monolithic(&self, repo: &str, blob: &Blob) -> Response {
        let mut url = self.url(&format!("/v2/{repo}/blobs/uploads/"));
        url.query_pairs_mut().append_pair("digest", &blob.digest);
        let req = self.http.post(url).header("Content-Type", "application/octet-stream");
        self.send(req.body(blob.bytes.clone())).await
    }

    /// `PATCH` a chunk starting at `offset`, with `Content-Range: <start>-<end>`.
    pub async fn patch_chunk(&self, location: &str, offset: u64, data: &[u8]) -> Response {
        let end = offset + data.len() as u64 - 1;
        let req = self
            .request(Method::PATCH, location)
            .header("Content-Type", "application/octet-stream")
            .header("Content-Range", format!("{offset}-{end}"));
        self.send(req.body(data.to_vec())).await
    }

    /// Closes an upload with `PUT <location>?digest=`, sending `data` as the
    /// final chunk (with a Content-Range when `range_start` is given).
    pub async fn finish_upload(&self, location: &str, digest: &str, data: &[u8], range_start: Option<u64>) -> Response {
        let mut url = self.url(location);
        url.query_pairs_mut().append_pair("digest", digest);
        let mut req = self.http.put(url).header("Content-Type", "application/octet-stream");
        if let (Some(start), false) = (range_start, data.is_empty()) {
            req = req.header("Content-Range", format!("{start}-{}", start + data.len() as u64 - 1));
        }
        self.send(req.body(data.to_vec())).await
    }

    /// `GET <location>`: the upload's status.
    pub async fn upload_status(&self, location: &str) -> Response {
        self.send(self.request(Method::GET, location)).await
    }

    /// POST then PUT with the whole content; returns the PUT response.
    pub async fn upload_post_put(&self, repo: &str, blob: &Blob) -> Response {
        let location = self.upload_location(repo).await;
        self.finish_upload(&location, &blob.digest, &blob.bytes, None).await
    }

    /// POST, PATCH in `chunk`-sized pieces (each asserted 202 with the right
    /// `Range`), then an empty closing PUT; returns the PUT response.
    pub async fn upload_chunked(&self, repo: &str, blob: &Blob, chunk: usize) -> Response {
        let mut location = self.upload_location(repo).await;
        let mut offset = 0u64;
        for piece in blob.bytes.chunks(chunk) {
            let resp = expect_status(self.patch_chunk(&location, offset, piece).await, 202).await;
            offset += piece.len() as u64;
            assert_eq!(header(&resp, "Range").as_deref(), Some(format!("0-{}", offset - 1).as_str()));
            location = header(&resp, "Location").expect("PATCH 202 without Location");
        }
        self.finish_upload(&location, &blob.digest, &[], None).await
    }

    /// `POST /v2/<repo>/blobs/uploads/?mount=<digest>[&from=<from>]`.
    pub async fn mount(&self, repo: &str, digest: &str, from: Option<&str>) -> Response {
        let mut url = self.url(&format!("/v2/{repo}/blobs/uploads/"));
        url.query_pairs_mut().append_pair("mount", digest);
        if let Some(from) = from {
            url.query_pairs_mut().append_pair("from", from);
        }
        self.send(self.http.post(url).header("Content-Length", "0")).await
    }

    /// Asserts that `location` (from a 201) serves exactly `bytes`.
    pub async fn assert_location_serves(&self, location: &str, bytes: &[u8]) {
        let accept = [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST].join(", ");
        let resp = self.send(self.request(Method::GET, location).header("Accept", accept)).await;
        let got = expect_status(resp, 200).await.bytes().await.expect("body");
        assert!(got[..] == bytes[..], "{location} serves different content");
    }

    /// Pushes `blob` with POST+PUT, asserting 201.
    pub async fn push_blob(&self, repo: &str, blob: &Blob) {
        expect_status(self.upload_post_put(repo, blob).await, 201).await;
    }

    /// `GET /v2/<repo>/blobs/<digest>`.
    pub async fn get_blob(&self, repo: &str, digest: &str) -> Response {
        self.send(self.request(Method::GET, &format!("/v2/{repo}/blobs/{digest}"))).await
    }

    /// `HEAD /v2/<repo>/blobs/<digest>`.
    pub async fn head_blob(&self, repo: &str, digest: &str) -> Response {
        self.send(self.request(Method::HEAD, &format!("/v2/{repo}/blobs/{digest}"))).await
    }

    /// Pulls `blob` from `repo` and asserts 200, identical bytes and digest header.
    pub async fn assert_blob(&self, repo: &str, blob: &Blob) {
        let resp = expect_status(self.get_blob(repo, &blob.digest).await, 200).await;
        assert_eq!(header(&resp, "Docker-Content-Digest").as_deref(), Some(blob.digest.as_str()));
        let got = resp.bytes().await.expect("blob body");
        assert!(got[..] == blob.bytes[..], "{repo}@{}: content differs", blob.digest);
    }

    /// `PUT /v2/<repo>/manifests/<reference>` with the manifest's media type.
    pub async fn push_manifest(&self, repo: &str, reference: &str, m: &Manifest) -> Response {
        self.try_push_manifest(repo, reference, m).await.expect("request failed at the transport level")
    }

    /// Like [`OciClient::push_manifest`], but a transport failure is returned,
    /// for bodies the server may refuse before reading them.
    pub async fn try_push_manifest(&self, repo: &str, reference: &str, m: &Manifest) -> reqwest::Result<Response> {
        let req = self
            .request(Method::PUT, &format!("/v2/{repo}/manifests/{reference}"))
            .header("Content-Type", &m.media_type);
        req.body(m.bytes.clone()).send().await
    }

    /// `GET` (or `HEAD`) a manifest, sending each of `accept` as an Accept header.
    pub async fn fetch_manifest(&self, method: Method, repo: &str, reference: &str, accept: &[&str]) -> Response {
        let mut req = self.request(method, &format!("/v2/{repo}/manifests/{reference}"));
        for a in accept {
            req = req.header("Accept", *a);
        }
        self.send(req).await
    }

    /// Pulls a manifest accepting every type it might have; asserts 200,
    /// identical bytes, Content-Type and Docker-Content-Digest.
    pub async fn assert_manifest(&self, repo: &str, reference: &str, m: &Manifest) {
        let all = [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST];
        let resp = expect_status(self.fetch_manifest(Method::GET, repo, reference, &all).await, 200).await;
        assert_eq!(header(&resp, "Content-Type").as_deref(), Some(m.media_type.as_str()));
        assert_eq!(header(&resp, "Docker-Content-Digest").as_deref(), Some(m.digest.as_str()));
        assert!(resp.bytes().await.expect("manifest body")[..] == m.bytes[..], "{repo}:{reference} bytes differ");
    }

    /// Pushes a one-layer OCI image tagged `tag`, asserting every step.
    pub async fn push_image(&self, repo: &str, tag: &str) -> Image {
        let (config, layer) = (Blob::config(), Blob::random(2048));
        self.push_blob(repo, &config).await;
        self.push_blob(repo, &layer).await;
        let value = image_manifest(&config.descriptor(OCI_CONFIG), &[layer.descriptor(OCI_LAYER)]);
        let manifest = Manifest::json(OCI_MANIFEST, &value);
        expect_status(self.push_manifest(repo, tag, &manifest).await, 201).await;
        Image { config, layer, manifest }
    }

    /// Pushes the blobs of an artifact referring to `subject` (a descriptor)
    /// and returns its manifest, not yet pushed. Without `artifact_type`, the
    /// config media type is what identifies the artifact.
    pub async fn artifact(
        &self,
        repo: &str,
        subject: Value,
        artifact_type: Option<&str>,
        config_type: &str,
        annotations: Value,
    ) -> Manifest {
        let (config, payload) = (Blob::new(b"{}".to_vec()), Blob::random(200));
        self.push_blob(repo, &config).await;
        self.push_blob(repo, &payload).await;
        let layer = payload.descriptor("application/vnd.example.payload.v1");
        let mut value = image_manifest(&config.descriptor(config_type), &[layer]);
        if let Some(t) = artifact_type {
            value["artifactType"] = t.into();
        }
        value["annotations"] = annotations;
        value["subject"] = subject;
        Manifest::json(OCI_MANIFEST, &value)
    }

    /// `GET /v2/<repo>/referrers/<digest>[?artifactType=]`.
    pub async fn referrers(&self, repo: &str, digest: &str, artifact_type: Option<&str>) -> Response {
        let mut url = self.url(&format!("/v2/{repo}/referrers/{digest}"));
        if let Some(t) = artifact_type {
            url.query_pairs_mut().append_pair("artifactType", t);
        }
        self.send(self.http.get(url)).await
    }

    /// Asserts the registry answers `GET /v2/` and still serves `image` intact.
    pub async fn assert_healthy(&self, repo: &str, tag: &str, image: &Image) {
        expect_status(self.ping().await, 200).await;
        self.assert_manifest(repo, tag, &image.manifest).await;
        self.assert_blob(repo, &image.config).await;
        self.assert_blob(repo, &image.layer).await;
    }
}

/// Size of one generated block; see [`generated_block`].
pub const GENERATED_BLOCK: usize = 1 << 20;

/// Block `index` of a deterministic multi-GiB byte sequence: a fixed random
/// block stamped with its index, so content never repeats yet costs one copy.
pub fn generated_block(index: u64) -> Bytes {
    static BASE: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    let base = BASE.get_or_init(|| {
        let mut v = vec![0u8; GENERATED_BLOCK];
        rand::rngs::StdRng::seed_from_u64(0x0062_6572_7468).fill(&mut v[..]);
        v
    });
    let mut block = base.clone();
    block[..8].copy_from_slice(&index.to_le_bytes());
    Bytes::from(block)
}

/// Blocks `first..first + count` of the generated sequence as a body stream.
pub fn generated_stream(first: u64, count: u64) -> impl Stream<Item = Result<Bytes, std::io::Error>> {
    futures::stream::iter((first..first + count).map(|i| Ok(generated_block(i))))
}

/// A response read off a raw socket. `body` is as sent (not de-chunked).
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
}

/// Opens a TCP connection to `host` and writes `bytes` (a request, possibly
/// incomplete); the caller decides whether to finish, read or drop it.
///
/// A failed write is ignored: a server may rightly answer and close before
/// reading everything, and what it answered is still there to read.
pub async fn raw_send(host: &str, bytes: &[u8]) -> TcpStream {
    let mut s = TcpStream::connect(host).await.expect("connect");
    let _ = s.write_all(bytes).await;
    s
}

/// Reads whatever the server sends until it closes the connection (or 10 s
/// pass) and parses it; `None` if the server closed without answering.
pub async fn raw_read(mut s: TcpStream) -> Option<RawResponse> {
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut buf)).await;
    let split = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&buf[..split]).into_owned();
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    Some(RawResponse { status, head, body: buf[split + 4..].to_vec() })
}

/// Sends a complete raw request (which should say `Connection: close`) and reads the answer.
pub async fn raw_exchange(host: &str, bytes: &[u8]) -> Option<RawResponse> {
    raw_read(raw_send(host, bytes).await).await
}

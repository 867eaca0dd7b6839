//! `OciClient`: every upload flavour, manifest push/pull, referrers.

use std::time::Duration;

use reqwest::{Method, RequestBuilder, Response, Url};
use serde_json::Value;

use super::*;

/// Starts `berth serve` from `bin` (pass `env!("CARGO_BIN_EXE_berth")`) and
/// returns it with a client pointed at it, signed in as the system admin.
pub fn start_registry(bin: &str) -> (crate::Berth, OciClient) {
    let berth = crate::Berth::start(bin).expect("berth starts");
    let client = OciClient::new(&berth.url);
    (berth, client)
}

/// The `Authorization` value for the admin, for requests written by hand:
/// Basic with `ADMIN_USER:ADMIN_PASSWORD` (a test checks they agree).
pub const ADMIN_AUTHORIZATION: &str = "Basic YWRtaW46QmVydGgtVGVzdC1BZG1pbi0x";

/// An unpooled HTTP client that follows no redirects, its connections
/// coming from `local` if given.
fn http_client(local: Option<std::net::IpAddr>) -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .connect_timeout(Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .local_address(local)
        .build()
        .expect("http client")
}

/// A registry client bound to one base URL and one identity.
#[derive(Clone)]
pub struct OciClient {
    http: reqwest::Client,
    base: Url,
    /// Basic credentials sent with every request; `None` is anonymous.
    credentials: Option<(String, String)>,
}

impl OciClient {
    /// A client for `base_url` (e.g. `http://127.0.0.1:5000`) signed in as
    /// the system admin. Connections are not pooled, so a restarted server
    /// never sees a stale socket.
    pub fn new(base_url: &str) -> OciClient {
        OciClient::with_credentials(base_url, Some((crate::ADMIN_USER, crate::ADMIN_PASSWORD)))
    }

    /// A client sending no credentials.
    pub fn anonymous(base_url: &str) -> OciClient {
        OciClient::with_credentials(base_url, None)
    }

    /// A client using `credentials` (username, password) with Basic auth.
    pub fn with_credentials(base_url: &str, credentials: Option<(&str, &str)>) -> OciClient {
        let credentials = credentials.map(|(u, p)| (u.to_owned(), p.to_owned()));
        OciClient { http: http_client(None), base: Url::parse(base_url).expect("base url"), credentials }
    }

    /// A client signed in as the system admin whose connections come from
    /// `local` (any `127.x.y.z` reaches a loopback server), so the server
    /// sees another client address.
    pub fn admin_from(base_url: &str, local: std::net::IpAddr) -> OciClient {
        OciClient { http: http_client(Some(local)), ..OciClient::new(base_url) }
    }

    /// Creates a project through the management API, asserting 201; its id.
    pub async fn create_project(&self, name: &str, public: bool) -> i64 {
        let body = serde_json::json!({ "project_name": name, "metadata": { "public": public.to_string() } });
        let resp = self.send(self.request(Method::POST, "/api/v2.0/projects").json(&body)).await;
        location_id(&expect_status(resp, 201).await, "/api/v2.0/projects/")
    }

    /// Creates the local user `name` (as this client, normally the admin),
    /// asserting 201; its id and a client signed in as it.
    pub async fn add_user(&self, name: &str, password: &str) -> (i64, OciClient) {
        let body = serde_json::json!({
            "username": name, "email": format!("{name}@example.com"), "realname": name,
            "password": password, "comment": "e2e",
        });
        let resp = expect_status(self.api(Method::POST, "users", Some(body)).await, 201).await;
        let id = location_id(&resp, "/api/v2.0/users/");
        (id, OciClient::with_credentials(self.base.as_str(), Some((name, password))))
    }

    /// `GET /api/v2.0/<path>`, asserting 200, as JSON.
    pub async fn get_json(&self, path: &str) -> Value {
        expect_status(self.api(Method::GET, path, None).await, 200).await.json().await.expect("JSON body")
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
        self.request_url(method, self.url(path_or_location))
    }

    /// A request to an absolute URL, with this client's credentials.
    fn request_url(&self, method: Method, url: Url) -> RequestBuilder {
        let req = self.http.request(method, url);
        match &self.credentials {
            Some((user, password)) => req.basic_auth(user, Some(password)),
            None => req,
        }
    }

    /// A management request, `/api/v2.0/<path>`, with an optional JSON body.
    pub async fn api(&self, method: Method, path: &str, body: Option<Value>) -> Response {
        let mut req = self.request(method, &format!("/api/v2.0/{}", path.trim_start_matches('/')));
        if let Some(body) = body {
            req = req.json(&body);
        }
        self.send(req).await
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
        let req = self.request_url(Method::POST, url).header("Content-Type", "application/octet-stream");
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
        let mut req = self.request_url(Method::PUT, url).header("Content-Type", "application/octet-stream");
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
        self.send(self.request_url(Method::POST, url).header("Content-Length", "0")).await
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
        self.send(self.request_url(Method::GET, url)).await
    }

    /// Asserts the registry answers `GET /v2/` and still serves `image` intact.
    pub async fn assert_healthy(&self, repo: &str, tag: &str, image: &Image) {
        expect_status(self.ping().await, 200).await;
        self.assert_manifest(repo, tag, &image.manifest).await;
        self.assert_blob(repo, &image.config).await;
        self.assert_blob(repo, &image.layer).await;
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn admin_authorization_matches_the_admin_credentials() {
        use base64::Engine;
        let pair = format!("{}:{}", crate::ADMIN_USER, crate::ADMIN_PASSWORD);
        let expected = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair));
        assert_eq!(super::ADMIN_AUTHORIZATION, expected);
    }
}

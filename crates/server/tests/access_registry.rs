//! Access control on the registry API (`/v2/` and `/service/token`): the role
//! policy for pull, push and delete with Basic credentials and with Bearer
//! tokens, public projects, token integrity, the catalog, malformed
//! `Authorization` headers, login throttling and the audit trail.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use berth_auth::{Scope, SealingKey, SigningKey, Subject, TokenAccount};
use berth_meta::{sqlite::SqliteMeta, SettingsMeta, UserMeta};
use berth_testkit::oci_http::*;
use berth_testkit::{Berth, ADMIN_PASSWORD, ADMIN_USER};
use reqwest::{Method, RequestBuilder, Response};
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_berth");
const PASSWORD: &str = "Berth-Test-User-1";
/// A repository in the private project `team`.
const REPO: &str = "team/app";

/// What the registry answers a principal asking for an action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Allow,        // 2xx
    Unauthorized, // 401 UNAUTHORIZED with a Bearer challenge: sign in first
    Denied,       // 403 DENIED: signed in, but not allowed
}
use Outcome::{Allow, Denied, Unauthorized};

/// The policy on `team/app`: principal (a username, or `anonymous`), its Harbor role id in `team`
/// (1 projectAdmin, 2 developer, 3 guest, 4 maintainer, 5 limitedGuest; `admin` is a system admin),
/// and the outcome of [pull, push, delete].
const POLICY: [(&str, Option<i64>, [Outcome; 3]); 8] = [
    ("anonymous", None, [Unauthorized, Unauthorized, Unauthorized]),
    ("outsider", None, [Denied, Denied, Denied]),
    ("limited-guest", Some(5), [Allow, Denied, Denied]),
    ("guest", Some(3), [Allow, Denied, Denied]),
    ("developer", Some(2), [Allow, Allow, Denied]),
    ("maintainer", Some(4), [Allow, Allow, Allow]),
    ("project-admin", Some(1), [Allow, Allow, Allow]),
    (ADMIN_USER, None, [Allow, Allow, Allow]),
];

fn credentials(who: &str) -> Option<(&str, &str)> {
    match who {
        "anonymous" => None,
        ADMIN_USER => Some((ADMIN_USER, ADMIN_PASSWORD)),
        user => Some((user, PASSWORD)),
    }
}

/// A principal talking to `/v2/` with Basic credentials, a Bearer token or nothing.
struct Caller {
    client: OciClient,
    bearer: Option<String>,
}

impl Caller {
    fn basic(berth: &Berth, who: &str) -> Caller {
        Caller { client: OciClient::with_credentials(&berth.url, credentials(who)), bearer: None }
    }

    fn bearer(berth: &Berth, token: &str) -> Caller {
        Caller { client: OciClient::anonymous(&berth.url), bearer: Some(token.to_owned()) }
    }

    fn req(&self, method: Method, path: &str) -> RequestBuilder {
        self.bearer.iter().fold(self.client.request(method, path), |req, token| req.bearer_auth(token))
    }

    async fn pull(&self, repo: &str, reference: &str) -> Response {
        let req = self.req(Method::GET, &format!("/v2/{repo}/manifests/{reference}")).header("Accept", OCI_MANIFEST);
        req.send().await.expect("transport")
    }

    async fn push_blob(&self, repo: &str, blob: &Blob) -> Response {
        let req = self.req(Method::POST, &format!("/v2/{repo}/blobs/uploads/?digest={}", blob.digest));
        req.header("Content-Type", "application/octet-stream").body(blob.bytes.clone()).send().await.expect("transport")
    }

    async fn push_manifest(&self, repo: &str, tag: &str, m: &Manifest) -> Response {
        let req = self.req(Method::PUT, &format!("/v2/{repo}/manifests/{tag}")).header("Content-Type", OCI_MANIFEST);
        req.body(m.bytes.clone()).send().await.expect("transport")
    }
}

/// The `(code, message)` of the first error of an OCI or management API error body.
fn first_error(body: &str) -> (String, String) {
    let v: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("not a JSON error body ({e}): {body}"));
    let e = &v["errors"][0];
    (e["code"].as_str().unwrap_or_default().to_owned(), e["message"].as_str().unwrap_or_default().to_owned())
}

/// Asserts `resp` is `ok` for [`Allow`], or the exact refusal; returns the error message.
async fn check(resp: Response, want: Outcome, ok: u16, ctx: &str) -> String {
    let origin = resp.url().origin().ascii_serialization();
    let (code, challenge) = (status(&resp), header(&resp, "WWW-Authenticate"));
    let body = resp.text().await.unwrap_or_default();
    let expected = match want {
        Allow => {
            assert_eq!(code, ok, "{ctx}: expected {ok}; body: {body}");
            return String::new();
        }
        Unauthorized => (401, "UNAUTHORIZED"),
        Denied => (403, "DENIED"),
    };
    assert_eq!(code, expected.0, "{ctx}: expected {want:?}; body: {body}");
    let (oci_code, message) = first_error(&body);
    assert_eq!(oci_code, expected.1, "{ctx}: body {body}");
    assert!(!message.is_empty(), "{ctx}: error without a message: {body}");
    if want == Unauthorized {
        let challenge = challenge.unwrap_or_else(|| panic!("{ctx}: 401 without WWW-Authenticate"));
        let realm = format!(r#"Bearer realm="{origin}/service/token",service="berth-registry""#);
        assert!(challenge.starts_with(&realm), "{ctx}: challenge {challenge:?} does not start with {realm:?}");
    }
    message
}

async fn create_user(admin: &OciClient, name: &str) {
    admin.add_user(name, PASSWORD).await;
}

async fn add_member(admin: &OciClient, project: &str, name: &str, role_id: i64) {
    let body = json!({"role_id": role_id, "member_user": {"username": name}});
    let resp = admin.request(Method::POST, &format!("/api/v2.0/projects/{project}/members")).json(&body).send();
    expect_status(resp.await.unwrap(), 201).await;
}

/// Every principal of [`POLICY`] as a user and `team` member, and `team/app:v1` pushed by the admin.
async fn setup(berth: &Berth) -> (OciClient, Image) {
    let admin = OciClient::new(&berth.url);
    admin.create_project("team", false).await;
    for (who, role, _) in POLICY {
        if who != "anonymous" && who != ADMIN_USER {
            create_user(&admin, who).await;
        }
        if let Some(role_id) = role {
            add_member(&admin, "team", who, role_id).await;
        }
    }
    let image = admin.push_image(REPO, "v1").await;
    (admin, image)
}

/// A manifest over `image`'s blobs, made unique by an annotation.
fn variant(image: &Image, note: &str) -> Manifest {
    let mut value = image_manifest(&image.config.descriptor(OCI_CONFIG), &[image.layer.descriptor(OCI_LAYER)]);
    value["annotations"] = json!({ "org.example.note": note });
    Manifest::json(OCI_MANIFEST, &value)
}

/// The tag `who` pushes in [`exercise`], and the manifest the admin pushes there for `who` to delete.
fn targets(image: &Image, who: &str) -> (String, Manifest) {
    (format!("push-{who}"), variant(image, &format!("deleted by {who}")))
}

/// Pull, push (a blob, then a manifest) and delete as `caller`, each checked against `expected`; then
/// the admin checks that pushes and deletes took effect exactly when they were allowed.
async fn exercise(admin: &OciClient, image: &Image, caller: &Caller, who: &str, expected: [Outcome; 3]) {
    let [pull, push, delete] = expected;
    check(caller.pull(REPO, "v1").await, pull, 200, &format!("{who} pull")).await;

    let blob = Blob::random(64);
    check(caller.push_blob(REPO, &blob).await, push, 201, &format!("{who} push blob")).await;
    let stored = status(&admin.head_blob(REPO, &blob.digest).await);
    assert_eq!(stored, if push == Allow { 200 } else { 404 }, "{who}: blob stored after push {push:?}");

    let ((tag, target), pushed) = (targets(image, who), variant(image, &format!("pushed by {who}")));
    check(caller.push_manifest(REPO, &tag, &pushed).await, push, 201, &format!("{who} push manifest")).await;
    let after = admin.fetch_manifest(Method::GET, REPO, &tag, &[OCI_MANIFEST]).await;
    assert_eq!(status(&after), if push == Allow { 200 } else { 404 }, "{who}: tag after push {push:?}");

    expect_status(admin.push_manifest(REPO, &format!("del-{who}"), &target).await, 201).await;
    let resp = caller.req(Method::DELETE, &format!("/v2/{REPO}/manifests/{}", target.digest)).send().await.unwrap();
    check(resp, delete, 202, &format!("{who} delete")).await;
    let after = admin.fetch_manifest(Method::GET, REPO, &target.digest, &[OCI_MANIFEST]).await;
    assert_eq!(status(&after), if delete == Allow { 404 } else { 200 }, "{who}: manifest after delete {delete:?}");
}

/// `GET /service/token` with `scopes`, as `credentials` (or anonymously).
async fn token_request(berth: &Berth, credentials: Option<(&str, &str)>, scopes: &[&str]) -> Response {
    let mut query = vec![("service", "berth-registry")];
    query.extend(scopes.iter().map(|s| ("scope", *s)));
    let client = OciClient::with_credentials(&berth.url, credentials);
    client.request(Method::GET, "/service/token").query(&query).send().await.unwrap()
}

/// A token from the token service, asserting 200 and the response shape.
async fn fetch_token(berth: &Berth, credentials: Option<(&str, &str)>, scopes: &[&str]) -> String {
    let body: Value = expect_status(token_request(berth, credentials, scopes).await, 200).await.json().await.unwrap();
    let token = body["token"].as_str().unwrap_or_else(|| panic!("no token in {body}")).to_owned();
    assert_eq!(body["access_token"].as_str(), Some(token.as_str()), "{body}");
    assert!(body["expires_in"].as_u64().is_some_and(|s| s > 0), "{body}");
    token
}

/// The `access` claim of a JWT, read from its payload without verifying it.
fn access_claim(token: &str) -> Value {
    jwt_part(token, 1)["access"].clone()
}

/// The audit entries on `team/app`, polled until `done` holds for them (5 s at most).
async fn audit_log(admin: &OciClient, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let mut entries = Vec::new();
    for _ in 0..50 {
        let query = [("q", "resource=~team/app"), ("page_size", "100")];
        let resp = admin.request(Method::GET, "/api/v2.0/audit-logs").query(&query).send().await.unwrap();
        let resp = expect_status(resp, 200).await;
        let total = header(&resp, "X-Total-Count").and_then(|t| t.parse::<usize>().ok()).expect("X-Total-Count");
        entries = resp.json().await.unwrap();
        assert_eq!(total, entries.len(), "audit entries beyond one page of 100, or a wrong X-Total-Count");
        if done(&entries) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    entries
}

/// The audit entries by `user` with this `operation` on this `resource`.
fn audited<'a>(entries: &'a [Value], (user, operation, resource): (&str, &str, &str)) -> Vec<&'a Value> {
    let is = |e: &&Value| e["username"] == user && e["operation"] == operation && e["resource"] == resource;
    entries.iter().filter(is).collect()
}

/// Asserts the audit log holds exactly one `artifact` entry per cell of `policy` as played by [`exercise`]
/// with Basic credentials, its `operation_result` telling whether the policy allows that cell.
async fn assert_policy_audited(admin: &OciClient, image: &Image, policy: &[(&str, Option<i64>, [Outcome; 3])]) {
    // (username, operation, resource, allowed), one per cell, in the order of POLICY's [pull, push, delete].
    let cells: Vec<(&str, &str, String, bool)> = (policy.iter())
        .flat_map(|&(who, _, outcomes)| {
            let (tag, target) = targets(image, who);
            let resources = [format!("{REPO}:v1"), format!("{REPO}:{tag}"), format!("{REPO}@{}", target.digest)];
            let operations = ["pull", "create", "delete"].into_iter().zip(resources).zip(outcomes);
            operations.map(move |((operation, resource), outcome)| (who, operation, resource, outcome == Allow))
        })
        .collect();
    let entries = audit_log(admin, |entries| {
        cells.iter().all(|(who, op, resource, _)| !audited(entries, (who, op, resource)).is_empty())
    })
    .await;
    let wrong: Vec<String> = (cells.iter())
        .filter_map(|(who, op, resource, allowed)| match audited(&entries, (who, op, resource))[..] {
            [e] if e["operation_result"] == *allowed && e["resource_type"] == "artifact" => None,
            ref found => Some(format!("{who} {op} {resource}: want operation_result {allowed}, found {found:?}")),
        })
        .collect();
    assert!(wrong.is_empty(), "audit log disagrees with the policy:\n{}", wrong.join("\n"));
}

#[tokio::test]
async fn basic_auth_follows_the_role_policy_for_pull_push_and_delete() {
    let berth = Berth::start(BIN).unwrap();
    let (admin, image) = setup(&berth).await;
    for (who, _, expected) in POLICY {
        exercise(&admin, &image, &Caller::basic(&berth, who), who, expected).await;
    }
    // Checked before the admin's pull below, which is audited as well. A request without any
    // credentials only gets a challenge (nothing was attempted), so anonymous cells are not audited.
    let signed_in: Vec<_> = POLICY.into_iter().filter(|(who, _, _)| *who != "anonymous").collect();
    assert_policy_audited(&admin, &image, &signed_in).await;
    // Nothing the refused principals tried damaged what was there.
    admin.assert_manifest(REPO, "v1", &image.manifest).await;
}

#[tokio::test]
async fn bearer_tokens_carry_exactly_the_granted_actions_and_enforce_the_same_policy() {
    let berth = Berth::start(BIN).unwrap();
    let (admin, image) = setup(&berth).await;
    for (who, _, expected) in POLICY {
        let token = fetch_token(&berth, credentials(who), &["repository:team/app:pull,push,delete"]).await;
        let granted: Vec<&str> =
            ["pull", "push", "delete"].iter().zip(expected).filter(|(_, o)| *o == Allow).map(|(a, _)| *a).collect();
        let want = match granted.is_empty() {
            true => json!([]),
            false => json!([{"type": "repository", "name": REPO, "actions": granted}]),
        };
        assert_eq!(access_claim(&token), want, "{who}: access claim");
        exercise(&admin, &image, &Caller::bearer(&berth, &token), &format!("{who}-bearer"), expected).await;
    }
}

#[tokio::test]
async fn anonymous_pulls_public_projects_with_a_token_but_never_private_ones_nor_pushes() {
    let berth = Berth::start(BIN).unwrap();
    let admin = OciClient::new(&berth.url);
    admin.create_project("team", false).await;
    let public = admin.push_image("library/app", "v1").await;
    admin.push_image(REPO, "v1").await;

    // The challenge names the token service and the scope to ask for.
    let resp = Caller::basic(&berth, "anonymous").pull(REPO, "v1").await;
    let challenge = header(&resp, "WWW-Authenticate").unwrap_or_default();
    assert!(challenge.contains(r#"scope="repository:team/app:pull""#), "{challenge}");
    check(resp, Unauthorized, 200, "anonymous pull of private").await;

    let token = fetch_token(&berth, None, &["repository:library/app:pull,push"]).await;
    assert_eq!(access_claim(&token), json!([{"type": "repository", "name": "library/app", "actions": ["pull"]}]));
    let anon = Caller::bearer(&berth, &token);
    let resp = expect_status(anon.pull("library/app", "v1").await, 200).await;
    assert_eq!(resp.bytes().await.unwrap()[..], public.manifest.bytes[..]);
    check(anon.push_blob("library/app", &Blob::random(32)).await, Unauthorized, 201, "anonymous blob push").await;
    let m = variant(&public, "anonymous");
    check(anon.push_manifest("library/app", "anon", &m).await, Unauthorized, 201, "anonymous manifest push").await;
    let plain = Caller::basic(&berth, "anonymous");
    check(plain.push_manifest("library/app", "anon", &m).await, Unauthorized, 201, "anonymous push, no token").await;

    let private = fetch_token(&berth, None, &["repository:team/app:pull"]).await;
    assert_eq!(access_claim(&private), json!([]));
    let resp = Caller::bearer(&berth, &private).pull(REPO, "v1").await;
    check(resp, Unauthorized, 200, "anonymous token on private").await;
}

/// The newest token signing key and the admin's account claim, read from the server's database
/// and opened with its secret key file: what an attacker holding both would have.
async fn signing_key(berth: &Berth) -> (SigningKey, TokenAccount) {
    let meta = SqliteMeta::open(&berth.data_dir.join("berth.db")).await.expect("open berth.db");
    let record = meta.signing_keys().await.unwrap().into_iter().next().expect("a signing key");
    let admin = meta.user_by_name(ADMIN_USER).await.unwrap().expect("the admin account");
    meta.close().await;
    let sealing = std::fs::read_to_string(berth.data_dir.join("secret.key")).expect("the secret key file");
    let sealing = SealingKey::from_text(&sealing).unwrap();
    let sealed = String::from_utf8(record.secret).unwrap();
    let secret = sealing.open(&sealed, &format!("signing-key:{}", record.kid)).expect("the key opens");
    let account = TokenAccount { kind: "user".into(), id: admin.id, stamp: admin.credential_stamp };
    (SigningKey::from_parts(record.kid, secret), account)
}

/// A token granting the admin pull on `team/app`, signed with `key`, valid for a minute from `issued_at`.
fn forge((key, account): &(SigningKey, TokenAccount), issued_at: u64) -> String {
    let access = vec![Scope { kind: "repository".into(), name: REPO.into(), actions: vec!["pull".into()] }];
    let subject = Subject { name: ADMIN_USER, account: Some(account.clone()) };
    berth_auth::issue(key, "berth-token-service", "berth-registry", subject, access, 60, issued_at).unwrap().token
}

#[tokio::test]
async fn tampered_forged_expired_and_misdirected_tokens_are_refused() {
    let berth = Berth::start(BIN).unwrap();
    let admin = OciClient::new(&berth.url);
    admin.create_project("team", false).await;
    create_user(&admin, "developer").await;
    add_member(&admin, "team", "developer", 2).await;
    admin.push_image(REPO, "v1").await;
    admin.push_image("team/other", "v1").await;
    let pull = |token: String| {
        let caller = Caller::bearer(&berth, &token);
        async move { caller.pull(REPO, "v1").await }
    };

    let good = fetch_token(&berth, Some((ADMIN_USER, ADMIN_PASSWORD)), &["repository:team/app:pull"]).await;
    expect_status(pull(good.clone()).await, 200).await;
    let (head, rest) = good.split_once('.').unwrap();
    let mid = rest.find('.').unwrap() / 2;
    let flipped = if &rest[mid..=mid] == "A" { "B" } else { "A" };
    let tampered = format!("{head}.{}{flipped}{}", &rest[..mid], &rest[mid + 1..]);
    check(pull(tampered).await, Unauthorized, 200, "tampered payload").await;

    // Forging with the server's own key works, which makes the refusals below meaningful.
    let (key, now) = (signing_key(&berth).await, SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs());
    expect_status(pull(forge(&key, now)).await, 200).await;
    let message = check(pull(forge(&key, now - 7200)).await, Unauthorized, 200, "expired token").await;
    assert!(message.contains("expired"), "message does not mention expiry: {message}");

    let other_secret = (SigningKey::from_parts(key.0.kid.clone(), random_bytes(32)), key.1.clone());
    check(pull(forge(&other_secret, now)).await, Unauthorized, 200, "same kid, random secret").await;
    check(pull(forge(&(SigningKey::generate(), key.1.clone()), now)).await, Unauthorized, 200, "random key").await;

    let valid = forge(&key, now);
    let header = URL_SAFE_NO_PAD.encode(json!({"alg": "none", "typ": "JWT", "kid": key.0.kid}).to_string());
    let unsigned = format!("{header}.{}.", valid.split('.').nth(1).unwrap());
    check(pull(unsigned).await, Unauthorized, 200, "alg none").await;

    // A token for team/app does not open team/other, even for a user who may pull both.
    let dev = fetch_token(&berth, credentials("developer"), &["repository:team/app:pull,push"]).await;
    expect_status(pull(dev.clone()).await, 200).await;
    let other = Caller::bearer(&berth, &dev).pull("team/other", "v1").await;
    check(other, Unauthorized, 200, "token for team/app on team/other").await;
}

#[tokio::test]
async fn catalog_is_for_system_admins_only() {
    let berth = Berth::start(BIN).unwrap();
    let (admin, _) = setup(&berth).await;
    let resp = expect_status(admin.request(Method::GET, "/v2/_catalog").send().await.unwrap(), 200).await;
    let body: Value = resp.json().await.unwrap();
    assert!(body["repositories"].as_array().unwrap().contains(&json!(REPO)), "{body}");
    for (who, want) in [("developer", Denied), ("anonymous", Unauthorized)] {
        let resp = Caller::basic(&berth, who).req(Method::GET, "/v2/_catalog").send().await.unwrap();
        check(resp, want, 200, &format!("{who} catalog")).await;
    }
}

#[tokio::test]
async fn malformed_authorization_headers_get_an_explained_401_and_the_server_keeps_serving() {
    let berth = Berth::start(BIN).unwrap();
    let admin = OciClient::new(&berth.url);
    let image = admin.push_image("library/app", "v1").await;
    let no_colon = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode("admin-without-colon"));
    let huge = format!("Basic {}", "A".repeat(20 * 1024));
    let cases = [
        ("Digest username=admin", "Basic"),
        ("Basic !!!not*base64!!!", "base64"),
        (huge.as_str(), "KiB"),
        (no_colon.as_str(), "':'"),
    ];
    let anon = OciClient::anonymous(&berth.url);
    for (value, hint) in cases {
        let ctx = format!("Authorization: {:.40}", value);
        let req = anon.request(Method::GET, "/v2/library/app/manifests/v1").header("Authorization", value);
        let message = check(req.send().await.unwrap(), Unauthorized, 200, &ctx).await;
        assert!(message.contains("Authorization") && message.contains(hint), "{ctx}: unhelpful message {message:?}");
    }
    admin.assert_healthy("library/app", "v1", &image).await;
}

/// Wrong passwords for one user from one address make that address wait
/// for that user, on the token service and on `/v2/` alike; other users are
/// not affected (other addresses are shown in `login_throttling.rs`).
#[tokio::test]
async fn registry_actions_are_audited_with_user_and_result() {
    let berth = Berth::start(BIN).unwrap();
    let (admin, image) = setup(&berth).await;
    let guest = Caller::basic(&berth, "guest");
    expect_status(guest.pull(REPO, "v1").await, 200).await;
    check(guest.push_manifest(REPO, "guest", &variant(&image, "g")).await, Denied, 201, "guest push").await;

    // (username, operation, resource, operation_result)
    let wanted = [
        (ADMIN_USER, "create", "team/app:v1", true),
        ("guest", "pull", "team/app:v1", true),
        ("guest", "create", "team/app:guest", false),
    ];
    let found = |entries: &[Value], (user, op, res, ok): (&str, &str, &str, bool)| {
        audited(entries, (user, op, res)).iter().any(|e| e["operation_result"] == ok)
    };
    let entries = audit_log(&admin, |entries| wanted.iter().all(|w| found(entries, *w))).await;
    assert!(wanted.iter().all(|w| found(&entries, *w)), "audit log lacks one of {wanted:?}; has {entries:#?}");
    let artifact = |e: &Value| e["resource"].as_str().unwrap().contains(REPO) && e["resource_type"] == "artifact";
    assert!(entries.iter().all(|e| artifact(e) && e["project"] == "team"), "filter ignored: {entries:#?}");
}

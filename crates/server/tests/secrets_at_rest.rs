//! Secrets at rest: the token signing keys and the LDAP bind password are
//! stored sealed under a key file kept outside the database, so a copy of
//! the database alone reveals neither; plaintext left by an older version
//! is sealed on the next start; a wrong key file stops the server with a
//! clear message instead of serving with secrets it cannot open.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use berth_meta::{sqlite::SqliteMeta, SettingsMeta, SigningKeyRecord};
use berth_testkit::oci_http::*;
use berth_testkit::{Berth, Slapd};
use reqwest::Method;
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_berth");

/// `POST /ldap/ping` with the stored settings only: works only if the stored password opens.
async fn ping_stored(admin: &OciClient) -> u16 {
    let resp = admin.request(Method::POST, "/api/v2.0/ldap/ping").json(&json!({})).send().await.unwrap();
    resp.status().as_u16()
}

/// Every file under `dir` that contains `needle`.
fn files_containing(dir: &Path, needle: &[u8]) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_containing(&path, needle));
        } else if std::fs::read(&path).unwrap_or_default().windows(needle.len()).any(|w| w == needle) {
            found.push(path.display().to_string());
        }
    }
    found
}

async fn stored(berth: &Berth) -> (Vec<SigningKeyRecord>, Vec<(String, String)>) {
    let meta = SqliteMeta::open(&berth.data_dir.join("berth.db")).await.unwrap();
    let found = (meta.signing_keys().await.unwrap(), meta.settings().await.unwrap());
    meta.close().await;
    found
}

#[tokio::test]
async fn signing_keys_and_the_ldap_password_are_sealed_and_open_after_a_restart() {
    let slapd = Slapd::start().expect("slapd starts");
    let (mut berth, admin) = start_registry(BIN);
    let key_file = berth.data_dir.join("secret.key");
    let mode = std::fs::metadata(&key_file).expect("a secret key file on first start").permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "the secret key file must be private");

    let settings = slapd.berth_settings();
    expect_status(admin.request(Method::PUT, "/api/v2.0/configurations").json(&settings).send().await.unwrap(), 200)
        .await;
    assert_eq!(ping_stored(&admin).await, 200);
    expect_status(admin.request(Method::POST, "/api/v2.0/system/token-keys").send().await.unwrap(), 201).await;
    berth.terminate().unwrap();

    let leaked = files_containing(&berth.data_dir, slapd.admin_password.as_bytes());
    assert!(leaked.is_empty(), "the LDAP password is stored in the clear in {leaked:?}");
    let (keys, settings) = stored(&berth).await;
    assert_eq!(keys.len(), 2, "the first key and the rotated one");
    for k in &keys {
        assert!(k.secret.starts_with(b"sealed:v1:"), "signing key {} is not sealed", k.kid);
    }
    let password = settings.iter().find(|(k, _)| k == "ldap_search_password").expect("a stored password");
    assert!(password.1.starts_with("\"sealed:v1:"), "{}", password.1);

    berth.restart().unwrap();
    assert_eq!(ping_stored(&admin).await, 200, "the stored password no longer opens after a restart");
    let token = admin.request(Method::GET, "/service/token").query(&[("scope", "repository:library/app:pull")]);
    expect_status(token.send().await.unwrap(), 200).await;
}

#[tokio::test]
async fn plaintext_from_an_older_version_is_sealed_on_start() {
    let slapd = Slapd::start().expect("slapd starts");
    let (mut berth, admin) = start_registry(BIN);
    berth.terminate().unwrap();
    let meta = SqliteMeta::open(&berth.data_dir.join("berth.db")).await.unwrap();
    let legacy = SigningKeyRecord { kid: "legacy".into(), secret: vec![7; 32], created_at: 0 };
    meta.add_signing_key(&legacy).await.unwrap();
    let plain: Vec<(String, String)> =
        slapd.berth_settings().as_object().unwrap().iter().map(|(k, v)| (k.clone(), v.to_string())).collect();
    meta.put_settings(&plain).await.unwrap();
    meta.close().await;

    berth.restart().unwrap();
    assert_eq!(ping_stored(&admin).await, 200);
    berth.terminate().unwrap();
    let (keys, _) = stored(&berth).await;
    assert!(keys.iter().all(|k| k.kid != "legacy"), "an unsealed signing key survived the start");
    let leaked = files_containing(&berth.data_dir, slapd.admin_password.as_bytes());
    assert!(leaked.is_empty(), "the plaintext password is still stored in {leaked:?}");
}

#[tokio::test]
async fn a_wrong_secret_key_stops_the_server_with_a_clear_message() {
    let (mut berth, _admin) = start_registry(BIN);
    berth.terminate().unwrap();
    let key_file = berth.data_dir.join("secret.key");
    std::fs::write(&key_file, format!("{}\n", berth_auth::SealingKey::generate().to_text())).unwrap();
    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&berth.data_dir)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(30) {
            child.kill().unwrap();
            panic!("berth kept running with a secret key that does not open its signing keys");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    assert!(!status.success());
    assert!(stderr.contains("secret key"), "unclear failure: {stderr}");
}

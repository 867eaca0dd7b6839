//! A full disk is an error, not a corruption: with the data directory on a
//! small tmpfs filled to its last kilobytes while clients push, every push
//! is answered 201 or 507 (never 500), pulls and token issuing keep
//! working, health reports the storage, writes resume as soon as space is
//! freed (no restart), and everything acknowledged is there, also after a
//! restart.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use berth_testkit::oci_http::*;
use berth_testkit::tmpfs::Tmpfs;
use berth_testkit::Berth;
use reqwest::Method;

const BIN: &str = env!("CARGO_BIN_EXE_berth");
const PUSHERS: usize = 8;
const ROUNDS: usize = 6;

/// Every answer a push got, and the blobs acknowledged with 201.
#[derive(Default)]
struct Outcomes {
    statuses: BTreeMap<u16, usize>,
    /// Repository and blob of each 201.
    acknowledged: Vec<(String, Blob)>,
    tagged: Vec<(String, Manifest)>,
}

/// Pushes `blob` by one of three upload flavours, recording each answer;
/// returns the final one.
async fn push_blob(reg: &OciClient, repo: &str, blob: &Blob, flavour: usize, outcomes: &Mutex<Outcomes>) -> u16 {
    if flavour.is_multiple_of(3) {
        let code = status(&reg.upload_monolithic(repo, blob).await);
        record(outcomes, code);
        return code;
    }
    let start = reg.start_upload(repo).await;
    let code = status(&start);
    record(outcomes, code);
    let Some(location) = header(&start, "Location").filter(|_| code == 202) else { return code };
    let resp = if flavour % 3 == 1 {
        reg.finish_upload(&location, &blob.digest, &blob.bytes, None).await
    } else {
        let patched = reg.patch_chunk(&location, 0, &blob.bytes).await;
        let code = status(&patched);
        record(outcomes, code);
        if code != 202 {
            return code;
        }
        let next = header(&patched, "Location").unwrap_or(location);
        reg.finish_upload(&next, &blob.digest, &[], None).await
    };
    let code = status(&resp);
    record(outcomes, code);
    if code == 507 {
        let body = resp.text().await.unwrap_or_default();
        assert!(body.contains("DENIED") && body.contains("storage is full"), "507 without a clear body: {body}");
    }
    code
}

/// One pusher's round: a blob, then a manifest referencing it.
async fn push_round(reg: &OciClient, pusher: usize, round: usize, outcomes: &Mutex<Outcomes>) {
    let repo = format!("full/app{pusher}");
    let blob = Blob::random(256 * 1024 + round * 1024);
    if push_blob(reg, &repo, &blob, round, outcomes).await != 201 {
        return;
    }
    outcomes.lock().unwrap().acknowledged.push((repo.clone(), blob.clone()));
    let config = Blob::config();
    if push_blob(reg, &repo, &config, 0, outcomes).await != 201 {
        return;
    }
    let manifest =
        Manifest::json(OCI_MANIFEST, &image_manifest(&config.descriptor(OCI_CONFIG), &[blob.descriptor(OCI_LAYER)]));
    let tag = format!("r{round}");
    let code = status(&reg.push_manifest(&repo, &tag, &manifest).await);
    record(outcomes, code);
    if code == 201 {
        outcomes.lock().unwrap().tagged.push((format!("{repo}:{tag}"), manifest));
    }
}

fn record(outcomes: &Mutex<Outcomes>, code: u16) {
    *outcomes.lock().unwrap().statuses.entry(code).or_default() += 1;
}

async fn push_wave(reg: &OciClient, outcomes: &Arc<Mutex<Outcomes>>, wave: usize) {
    let mut tasks = Vec::new();
    for pusher in 0..PUSHERS {
        let (reg, outcomes) = (reg.clone(), outcomes.clone());
        tasks.push(tokio::spawn(async move {
            for round in 0..ROUNDS {
                push_round(&reg, pusher, wave * ROUNDS + round, &outcomes).await;
            }
        }));
    }
    for t in tasks {
        t.await.expect("pusher");
    }
}

async fn assert_acknowledged_content_is_there(reg: &OciClient, outcomes: &Outcomes, when: &str) {
    for (repo, blob) in &outcomes.acknowledged {
        let resp = reg.get_blob(repo, &blob.digest).await;
        assert_eq!(status(&resp), 200, "{when}: acknowledged blob {} is gone", blob.digest);
        let bytes = resp.bytes().await.unwrap();
        assert!(bytes[..] == blob.bytes[..], "{when}: blob {} has other content", blob.digest);
    }
    for (reference, manifest) in &outcomes.tagged {
        let (repo, tag) = reference.split_once(':').unwrap();
        reg.assert_manifest(repo, tag, manifest).await;
    }
}

#[tokio::test]
async fn a_full_disk_refuses_writes_cleanly_and_recovers_without_a_restart() {
    let fs = Tmpfs::mount(64 * 1024 * 1024).expect("tmpfs");
    let data_dir = fs.path().join("data");
    let mut berth = Berth::start_in(BIN, &data_dir, &[]).expect("berth starts");
    let reg = OciClient::new(&berth.url);
    reg.create_project("full", false).await;
    let base = reg.push_image("full/base", "v1").await;

    // Room for a few pushes: the disk fills up while the clients push.
    let filler = fs.fill(4 * 1024 * 1024).expect("fill the disk");
    let outcomes = Arc::new(Mutex::new(Outcomes::default()));
    push_wave(&reg, &outcomes, 0).await;

    // While full: pulls, token issuing and health.
    reg.assert_healthy("full/base", "v1", &base).await;
    let token = reqwest::Client::new()
        .get(format!("{}/service/token?service={}&scope=repository:full/base:pull", berth.url, berth.host))
        .basic_auth(berth_testkit::ADMIN_USER, Some(berth_testkit::ADMIN_PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(status(&token), 200, "token issuing failed while the disk was full: {:?}", token.text().await);
    let health = reg.api(Method::GET, "health", None).await;
    assert_eq!(status(&health), 503);
    let health: serde_json::Value = health.json().await.unwrap();
    let storage = health["components"].as_array().unwrap().iter().find(|c| c["name"] == "storage").cloned();
    assert_eq!(storage.as_ref().map(|c| c["status"].clone()), Some("unhealthy".into()), "{health}");

    let full = outcomes.lock().unwrap().statuses.clone();
    assert!(full.contains_key(&507), "no push met the full disk: {full:?}");
    assert!(full.contains_key(&201), "no push fitted before the disk was full: {full:?}");

    // Space returns: writes work again at once.
    std::fs::remove_file(filler).unwrap();
    let before = outcomes.lock().unwrap().acknowledged.len();
    push_wave(&reg, &outcomes, 1).await;
    let outcomes = Arc::try_unwrap(outcomes).ok().unwrap().into_inner().unwrap();
    assert_eq!(
        outcomes.acknowledged.len() - before,
        PUSHERS * ROUNDS,
        "pushes failed after space was freed: {:?}",
        outcomes.statuses
    );
    let unexpected: Vec<_> = outcomes.statuses.keys().filter(|c| ![201, 202, 507].contains(*c)).collect();
    assert!(unexpected.is_empty(), "answers other than 201/202/507: {:?}", outcomes.statuses);
    expect_status(reg.api(Method::GET, "health", None).await, 200).await;

    assert_acknowledged_content_is_there(&reg, &outcomes, "after space was freed").await;
    berth.restart().expect("restart");
    let reg = OciClient::new(&berth.url);
    assert_acknowledged_content_is_there(&reg, &outcomes, "after a restart").await;
    reg.assert_healthy("full/base", "v1", &base).await;
    eprintln!("answers while full and after: {:?}; acknowledged before freeing: {before}", outcomes.statuses);
}

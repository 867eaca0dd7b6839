//! Blobs damaged on disk: changed bytes are never served as a good blob, a
//! lost or cut-short file gets one answer from `HEAD` and `GET`, and a new
//! push of the right bytes heals every case.

use std::path::PathBuf;

use berth_testkit::oci_http::*;
use berth_testkit::Berth;

const BIN: &str = env!("CARGO_BIN_EXE_berth");
const REPO: &str = "library/app";

fn blob_file(berth: &Berth, blob: &Blob) -> PathBuf {
    let hex = blob.digest.strip_prefix("sha256:").expect("a sha256 digest");
    berth.data_dir.join("blobs").join("sha256").join(&hex[..2]).join(hex)
}

/// Flips bytes of the stored file in place, keeping its length.
fn flip_bytes(berth: &Berth, blob: &Blob) {
    let path = blob_file(berth, blob);
    let mut bytes = std::fs::read(&path).expect("the stored blob file");
    for i in [0, bytes.len() / 2, bytes.len() - 1] {
        bytes[i] ^= 0x5a;
    }
    std::fs::write(&path, bytes).unwrap();
}

/// The 404 BLOB_UNKNOWN that tells a client to push the blob again.
async fn expect_lost(resp: reqwest::Response, what: &str) {
    let errors = expect_error(resp, &[404], &["BLOB_UNKNOWN"]).await;
    let message = &errors.errors[0].message;
    assert!(message.contains("pushed again"), "{what}: {message}");
}

async fn expect_head_lost(reg: &OciClient, blob: &Blob, what: &str) {
    let head = reg.head_blob(REPO, &blob.digest).await;
    assert_eq!(status(&head), 404, "{what}: HEAD");
}

async fn expect_healed_by_push(reg: &OciClient, blob: &Blob) {
    reg.push_blob(REPO, blob).await;
    let head = expect_status(reg.head_blob(REPO, &blob.digest).await, 200).await;
    assert_eq!(header(&head, "Content-Length"), Some(blob.bytes.len().to_string()));
    reg.assert_blob(REPO, blob).await;
}

/// Waits for the server's log (copied from its stderr as it comes) to hold
/// a line with all of `needles`.
async fn expect_logged(berth: &Berth, needles: &[&str]) {
    for _ in 0..50 {
        if berth.log().lines().any(|l| needles.iter().all(|n| l.contains(n))) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("no log line with {needles:?}:\n{}", berth.log());
}

fn quarantined(berth: &Berth, blob: &Blob) -> usize {
    let prefix = format!("{}-", blob.digest.replace(':', "-"));
    let Ok(entries) = std::fs::read_dir(berth.data_dir.join("quarantine")) else { return 0 };
    entries.filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().starts_with(&prefix)).count()
}

#[tokio::test]
async fn changed_bytes_are_never_served_as_the_blob_and_a_push_heals_them() {
    let (berth, reg) = start_registry(BIN);
    // One blob streamed in many chunks, one read in a single piece.
    let (large, small) = (Blob::random(3 * 1024 * 1024 + 17), Blob::random(1000));
    for blob in [&large, &small] {
        reg.push_blob(REPO, blob).await;
        flip_bytes(&berth, blob);
    }

    // The large blob's headers are out before its end is read: the body
    // must break off, so no client takes it for a complete blob.
    let get = expect_status(reg.get_blob(REPO, &large.digest).await, 200).await;
    let body = get.bytes().await;
    assert!(body.is_err(), "a damaged blob was sent whole ({} bytes)", body.unwrap().len());
    // The small one is checked before anything is sent.
    expect_lost(reg.get_blob(REPO, &small.digest).await, "GET of a damaged small blob").await;

    for blob in [&large, &small] {
        assert_eq!(quarantined(&berth, blob), 1, "{} set aside", blob.digest);
        assert!(!blob_file(&berth, blob).exists());
        expect_head_lost(&reg, blob, "after the damage was found").await;
        expect_lost(reg.get_blob(REPO, &blob.digest).await, "GET after the damage was found").await;
        expect_logged(&berth, &["ERROR", "stored blob is damaged", &blob.digest]).await;
        expect_healed_by_push(&reg, blob).await;
    }
}

#[tokio::test]
async fn a_lost_file_gets_one_answer_from_head_and_get_and_a_push_heals_it() {
    let (berth, reg) = start_registry(BIN);
    let blob = Blob::random(70_000);
    reg.push_blob(REPO, &blob).await;
    std::fs::remove_file(blob_file(&berth, &blob)).unwrap();

    expect_head_lost(&reg, &blob, "lost file").await;
    expect_lost(reg.get_blob(REPO, &blob.digest).await, "GET of a lost file").await;
    expect_logged(&berth, &["ERROR", "missing from storage", &blob.digest]).await;
    expect_healed_by_push(&reg, &blob).await;
}

#[tokio::test]
async fn a_cut_short_file_gets_one_answer_from_head_and_get_and_a_push_heals_it() {
    let (berth, reg) = start_registry(BIN);
    // Found first by GET, then by HEAD: both must answer alike either way.
    for get_first in [true, false] {
        let blob = Blob::random(2 * 1024 * 1024);
        reg.push_blob(REPO, &blob).await;
        let file = std::fs::OpenOptions::new().write(true).open(blob_file(&berth, &blob)).unwrap();
        file.set_len(blob.bytes.len() as u64 / 2).unwrap();
        drop(file);

        if get_first {
            expect_lost(reg.get_blob(REPO, &blob.digest).await, "GET of a cut-short file").await;
            expect_head_lost(&reg, &blob, "cut-short file, after GET").await;
        } else {
            expect_head_lost(&reg, &blob, "cut-short file").await;
            expect_lost(reg.get_blob(REPO, &blob.digest).await, "GET of a cut-short file, after HEAD").await;
        }
        assert_eq!(quarantined(&berth, &blob), 1, "the cut-short file is set aside");
        expect_logged(&berth, &["ERROR", "stored blob is damaged", &blob.digest]).await;
        expect_healed_by_push(&reg, &blob).await;
    }
}

//! Streaming, measured: a 2 GiB blob goes up in chunked PATCHes and comes
//! back down while the server's resident memory is sampled. Neither side
//! ever holds the blob; the bound is on memory, not on time.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use berth_testkit::oci_http::*;
use futures::StreamExt;
use reqwest::Method;
use sha2::{Digest as _, Sha256};

const BIN: &str = env!("CARGO_BIN_EXE_berth");
const BLOCK: u64 = GENERATED_BLOCK as u64;
const TOTAL_BLOCKS: u64 = 2048; // 2 GiB
const CHUNK_BLOCKS: u64 = 256; // 256 MiB per PATCH
const RSS_GROWTH_LIMIT_KIB: u64 = 32 * 1024;

/// The process's resident set size in KiB, from /proc/PID/status.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("berth is running");
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).expect("VmRSS line");
    line.split_whitespace().nth(1).and_then(|n| n.parse().ok()).expect("VmRSS value")
}

/// Records the highest RSS of `pid` every 20 ms until dropped.
struct PeakSampler {
    peak: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl PeakSampler {
    fn start(pid: u32) -> PeakSampler {
        let (peak, stop) = (Arc::new(AtomicU64::new(rss_kib(pid))), Arc::new(AtomicBool::new(false)));
        let (p, s) = (peak.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                p.fetch_max(rss_kib(pid), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        PeakSampler { peak, stop, thread: Some(thread) }
    }

    fn finish(mut self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.take().map(|t| t.join());
        self.peak.load(Ordering::Relaxed)
    }
}

impl Drop for PeakSampler {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn expected_digest() -> String {
    let mut h = Sha256::new();
    for i in 0..TOTAL_BLOCKS {
        h.update(generated_block(i));
    }
    format!("sha256:{:x}", h.finalize())
}

async fn push_streamed(reg: &OciClient, digest: &str) {
    let mut location = reg.upload_location("big").await;
    for first in (0..TOTAL_BLOCKS).step_by(CHUNK_BLOCKS as usize) {
        let (start, len) = (first * BLOCK, CHUNK_BLOCKS * BLOCK);
        let body = reqwest::Body::wrap_stream(generated_stream(first, CHUNK_BLOCKS));
        let patch = reg
            .request(Method::PATCH, &location)
            .header("Content-Type", "application/octet-stream")
            .header("Content-Range", format!("{start}-{}", start + len - 1))
            .header("Content-Length", len.to_string());
        let resp = expect_status(patch.body(body).send().await.expect("PATCH"), 202).await;
        assert_eq!(header(&resp, "Range"), Some(format!("0-{}", start + len - 1)));
        location = header(&resp, "Location").expect("Location");
    }
    expect_status(reg.finish_upload(&location, digest, &[], None).await, 201).await;
}

/// Pulls the blob, hashing it as it streams; returns (bytes, digest).
async fn pull_streamed(reg: &OciClient, digest: &str) -> (u64, String) {
    let resp = expect_status(reg.get_blob("big", digest).await, 200).await;
    assert_eq!(header(&resp, "Content-Length"), Some((TOTAL_BLOCKS * BLOCK).to_string()));
    let (mut hasher, mut count) = (Sha256::new(), 0u64);
    let mut body = resp.bytes_stream();
    while let Some(piece) = body.next().await {
        let piece = piece.expect("blob body");
        count += piece.len() as u64;
        hasher.update(&piece);
    }
    (count, format!("sha256:{:x}", hasher.finalize()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_and_pull_2gib_blob_with_bounded_rss() {
    let (berth, reg) = start_registry(BIN);
    let pid = berth.pid().expect("pid");
    let digest = expected_digest();
    // Warm up: the first push initializes pools and caches that are not per-transfer cost.
    let image = reg.push_image("warm", "v1").await;
    let before = rss_kib(pid);

    let sampler = PeakSampler::start(pid);
    push_streamed(&reg, &digest).await;
    let (count, pulled) = pull_streamed(&reg, &digest).await;
    let peak = sampler.finish();

    assert_eq!(count, TOTAL_BLOCKS * BLOCK);
    assert_eq!(pulled, digest);
    let growth = peak.saturating_sub(before);
    eprintln!("berth RSS: {before} KiB before, {peak} KiB peak, growth {growth} KiB");
    assert!(growth < RSS_GROWTH_LIMIT_KIB, "RSS grew by {growth} KiB moving 2 GiB (limit {RSS_GROWTH_LIMIT_KIB} KiB)");
    reg.assert_healthy("warm", "v1", &image).await;
}

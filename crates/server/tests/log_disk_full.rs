//! When the file system holding the server's log is full, requests keep
//! being answered (no handler panics, no dropped connections) and the audit
//! log keeps being written: log lines are lost, nothing else.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use berth_testkit::oci_http::*;
use berth_testkit::tmpfs::Tmpfs;
use reqwest::Method;

const BIN: &str = env!("CARGO_BIN_EXE_berth");

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

async fn wait_until_up(url: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if reqwest::get(format!("{url}/api/v2.0/ping")).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("berth did not come up at {url}");
}

/// Signs in with a wrong password `n` times through the token endpoint
/// (each one logged and audited), under names starting with `prefix`, few
/// enough per name to stay below throttling; every answer must be a clean
/// 401.
async fn failed_sign_ins(url: &str, prefix: &str, n: usize) {
    let http = reqwest::Client::new();
    for i in 0..n {
        let user = format!("{prefix}{}", i % 8);
        let resp = http.get(format!("{url}/service/token?service=x")).basic_auth(user, Some("wrong")).send().await;
        let resp = resp.expect("the connection was dropped");
        assert_eq!(status(&resp), 401);
    }
}

async fn audited_failures(admin: &OciClient, prefix: &str) -> usize {
    let resp = admin.api(Method::GET, "audit-logs?q=operation%3Dlogin&page_size=100", None).await;
    let entries: Vec<serde_json::Value> = expect_status(resp, 200).await.json().await.unwrap();
    entries.iter().filter(|e| e["username"].as_str().is_some_and(|u| u.starts_with(prefix))).count()
}

#[tokio::test]
async fn a_full_log_disk_loses_log_lines_only() {
    let logs = Tmpfs::mount(1024 * 1024).expect("tmpfs for the log");
    let data = tempfile::tempdir().unwrap();
    let url = format!("http://127.0.0.1:{}", free_port());
    let log = std::fs::File::create(logs.path().join("berth.log")).unwrap();
    let _server = Server(
        Command::new(BIN)
            .args(["serve", "--listen", url.trim_start_matches("http://"), "--data-dir"])
            .arg(data.path())
            .env("RUST_LOG", "debug")
            .env("BERTH_ADMIN_PASSWORD", berth_testkit::ADMIN_PASSWORD)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap(),
    );
    wait_until_up(&url).await;
    let admin = OciClient::new(&url);
    admin.create_project("logs", false).await;
    let image = admin.push_image("logs/app", "v1").await;

    logs.fill(0).expect("fill the log's file system");
    failed_sign_ins(&url, "mallory", 24).await;
    admin.assert_healthy("logs/app", "v1", &image).await;
    admin.push_image("logs/app", "v2").await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while audited_failures(&admin, "mallory").await < 24 {
        assert!(Instant::now() < deadline, "sign-ins made while the log disk was full were not audited");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    failed_sign_ins(&url, "trudy", 5).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while audited_failures(&admin, "trudy").await < 5 {
        assert!(Instant::now() < deadline, "the audit writer stopped");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

//! A real `berth serve` process on a free loopback port.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{bail, Context, Result};

/// The system admin every test server starts with.
pub const ADMIN_USER: &str = "admin";
/// The admin's password (set through `BERTH_ADMIN_PASSWORD` on first start).
pub const ADMIN_PASSWORD: &str = "Berth-Test-Admin-1";

/// A running `berth serve` with its own data directory.
///
/// The process is killed when this value drops; its log is kept in
/// `<data_dir>/../berth.log` so a failing test can show it.
pub struct Berth {
    bin: PathBuf,
    /// `127.0.0.1:PORT`, usable as a registry host by docker/skopeo/podman.
    pub host: String,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    pub data_dir: PathBuf,
    log_path: PathBuf,
    extra_args: Vec<String>,
    child: Option<Child>,
    _dir: Option<tempfile::TempDir>,
}

impl Berth {
    /// Starts `bin` with a fresh temporary data directory.
    pub fn start(bin: &str) -> Result<Berth> {
        Berth::start_with(bin, &[])
    }

    /// Starts `bin` with a fresh temporary data directory and extra CLI args.
    pub fn start_with(bin: &str, extra_args: &[&str]) -> Result<Berth> {
        let dir = tempfile::Builder::new().prefix("berth-test-").tempdir()?;
        let data_dir = dir.path().join("data");
        Berth::launch(bin, data_dir, dir, extra_args)
    }

    /// Starts `bin` with a fresh temporary data directory and `toml` as its
    /// configuration file.
    pub fn start_with_config(bin: &str, toml: &str) -> Result<Berth> {
        let dir = tempfile::Builder::new().prefix("berth-test-").tempdir()?;
        let config = dir.path().join("berth.toml");
        std::fs::write(&config, toml)?;
        let data_dir = dir.path().join("data");
        Berth::launch(bin, data_dir, dir, &["--config", &config.display().to_string()])
    }

    /// Starts `bin` on the given data directory (say, on a small file
    /// system a test mounted); the log is kept elsewhere.
    pub fn start_in(bin: &str, data_dir: &Path, extra_args: &[&str]) -> Result<Berth> {
        let dir = tempfile::Builder::new().prefix("berth-test-").tempdir()?;
        Berth::launch(bin, data_dir.to_owned(), dir, extra_args)
    }

    fn launch(bin: &str, data_dir: PathBuf, dir: tempfile::TempDir, extra_args: &[&str]) -> Result<Berth> {
        let mut berth = Berth {
            bin: PathBuf::from(bin),
            host: String::new(),
            url: String::new(),
            data_dir,
            log_path: dir.path().join("berth.log"),
            extra_args: extra_args.iter().map(|s| s.to_string()).collect(),
            child: None,
            _dir: Some(dir),
        };
        berth.spawn("127.0.0.1:0")?;
        Ok(berth)
    }

    /// A second `berth serve` on its own port sharing this one's data
    /// directory (database and blobs), as another node of one deployment.
    pub fn another_node(&self) -> Result<Berth> {
        let mut node = Berth {
            bin: self.bin.clone(),
            host: String::new(),
            url: String::new(),
            data_dir: self.data_dir.clone(),
            log_path: self.log_path.with_extension("node.log"),
            extra_args: self.extra_args.clone(),
            child: None,
            _dir: None,
        };
        node.spawn("127.0.0.1:0")?;
        Ok(node)
    }

    fn spawn(&mut self, listen: &str) -> Result<()> {
        let mut child = Command::new(&self.bin)
            .arg("serve")
            .arg("--listen")
            .arg(listen)
            .arg("--data-dir")
            .arg(&self.data_dir)
            .args(&self.extra_args)
            .env("RUST_LOG", std::env::var("BERTH_TEST_LOG").unwrap_or_else(|_| "info".into()))
            .env("BERTH_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("starting {}", self.bin.display()))?;
        let stderr = child.stderr.take().context("no stderr")?;
        let mut log = std::fs::OpenOptions::new().create(true).append(true).open(&self.log_path)?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut tx = Some(tx);
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = writeln!(log, "{line}");
                if let Some(addr) = line.split("listening on http://").nth(1) {
                    let addr = addr.split_whitespace().next().unwrap_or_default().to_string();
                    if let Some(tx) = tx.take() {
                        let _ = tx.send(addr);
                    }
                }
            }
        });
        self.child = Some(child);
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(addr) => {
                self.host = addr;
                self.url = format!("http://{}", self.host);
                Ok(())
            }
            Err(_) => bail!("berth did not start listening; log:\n{}", self.log()),
        }
    }

    /// Everything the server logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// `http://127.0.0.1:PORT/v2/<path>`.
    pub fn v2(&self, path: &str) -> String {
        format!("{}/v2/{}", self.url, path.trim_start_matches('/'))
    }

    /// `http://127.0.0.1:PORT/api/v2.0/<path>`.
    pub fn api(&self, path: &str) -> String {
        format!("{}/api/v2.0/{}", self.url, path.trim_start_matches('/'))
    }

    /// Creates a project as the admin (with curl, so synchronous tests can
    /// use it too).
    pub fn create_project(&self, name: &str, public: bool) -> Result<()> {
        let body = serde_json::json!({ "project_name": name, "metadata": { "public": public.to_string() } });
        self.admin_post("projects", &body)
    }

    /// Creates the local user `name` with `password` as the admin.
    pub fn create_user(&self, name: &str, password: &str) -> Result<()> {
        let body = serde_json::json!({
            "username": name,
            "email": format!("{name}@example.com"),
            "realname": name,
            "password": password,
            "comment": "created by a test",
        });
        self.admin_post("users", &body)
    }

    /// Makes `username` a member of `project` with Harbor role `role_id`
    /// (1 project admin, 2 developer, 3 guest, 4 maintainer, 5 limited
    /// guest).
    pub fn add_member(&self, project: &str, username: &str, role_id: u32) -> Result<()> {
        let body = serde_json::json!({ "role_id": role_id, "member_user": { "username": username } });
        self.admin_post(&format!("projects/{project}/members"), &body)
    }

    /// POSTs `body` to the management API as the admin and fails unless it
    /// answers 201 Created; the error carries the answer.
    fn admin_post(&self, path: &str, body: &serde_json::Value) -> Result<()> {
        let out = Command::new("curl")
            .args(["-sS", "-w", "\n%{http_code}", "-X", "POST"])
            .args(["-u", &format!("{ADMIN_USER}:{ADMIN_PASSWORD}")])
            .args(["-H", "Content-Type: application/json", "-d", &body.to_string(), &self.api(path)])
            .output()
            .context("running curl (apt-get install -y curl)")?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let (answer, code) = stdout.rsplit_once('\n').unwrap_or(("", &stdout));
        if code != "201" {
            bail!("POST {path} {body} answered {code}: {answer}{}", String::from_utf8_lossy(&out.stderr));
        }
        Ok(())
    }

    /// Kills the process with SIGKILL: no chance to clean up.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Sends SIGTERM and waits for the process to exit; returns its status code.
    pub fn terminate(&mut self) -> Result<Option<i32>> {
        let Some(mut c) = self.child.take() else { return Ok(None) };
        Command::new("kill").arg("-TERM").arg(c.id().to_string()).status()?;
        Ok(c.wait()?.code())
    }

    /// Starts the process again on the same port and data directory.
    pub fn restart(&mut self) -> Result<()> {
        self.kill9();
        let host = self.host.clone();
        // The old socket may linger for a moment; retry briefly.
        for _ in 0..50 {
            if self.spawn(&host).is_ok() {
                return Ok(());
            }
            self.kill9();
            std::thread::sleep(Duration::from_millis(100));
        }
        bail!("berth did not restart on {host}; log:\n{}", self.log())
    }

    /// The OS process id, for memory measurements.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|c| c.id())
    }
}

impl Drop for Berth {
    fn drop(&mut self) {
        self.kill9();
        if std::thread::panicking() {
            eprintln!("---- berth log ----\n{}", self.log());
        }
    }
}

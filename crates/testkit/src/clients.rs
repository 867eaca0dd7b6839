//! Thin wrappers around the real registry clients: skopeo, podman and docker
//! (containerd's `ctr` and buildah live in [`crate::ctr`] and
//! [`crate::buildah`], built on the same [`Client`]).
//!
//! Every call captures stdout and stderr; a failure (non-zero exit, missing
//! binary, timeout) becomes an error that carries the command line and both
//! streams, so a failing test says exactly what the client saw.

use std::cell::RefCell;
use std::io::Read;
use std::ops::Deref;
use std::process::{Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};

use crate::Berth;

/// `user` and `password` for one registry call; `None` is anonymous.
pub type Creds<'a> = Option<(&'a str, &'a str)>;

/// What a client printed.
#[derive(Debug, Clone, Default)]
pub struct Output {
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// stdout followed by stderr, for searching messages that clients print
    /// on either stream.
    pub fn combined(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

/// One command-line client: a program, the arguments every call starts with,
/// and how to install it when it is missing.
#[derive(Debug, Clone)]
pub struct Client {
    program: &'static str,
    pub(crate) base_args: Vec<String>,
    install_hint: &'static str,
    /// A call running longer is killed, so a registry that hangs fails the
    /// test instead of stalling the suite.
    pub(crate) timeout: Duration,
    /// Environment for every call (private credential stores).
    pub(crate) envs: Vec<(String, String)>,
}

impl Client {
    pub(crate) fn new(program: &'static str, install_hint: &'static str) -> Client {
        Client { program, base_args: Vec::new(), install_hint, timeout: Duration::from_secs(240), envs: Vec::new() }
    }

    /// Runs the client; succeeds only when it exits 0.
    pub fn run(&self, args: &[&str]) -> Result<Output> {
        let (status, out) = self.exec(args)?;
        if !status.success() {
            bail!("{}", self.report(args, &format!("failed ({status})"), &out));
        }
        Ok(out)
    }

    /// Runs the client; succeeds only when it exits non-zero, returning what
    /// it printed so the test can check the error text.
    pub fn run_failing(&self, args: &[&str]) -> Result<Output> {
        let (status, out) = self.exec(args)?;
        if status.success() {
            bail!("{}", self.report(args, "succeeded but was expected to fail", &out));
        }
        Ok(out)
    }

    fn report(&self, args: &[&str], what: &str, out: &Output) -> String {
        format!(
            "`{} {}` {what}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.program,
            self.base_args.iter().map(String::as_str).chain(args.iter().copied()).collect::<Vec<_>>().join(" "),
            tail(out.stdout.trim_end()),
            tail(out.stderr.trim_end())
        )
    }

    fn exec(&self, args: &[&str]) -> Result<(ExitStatus, Output)> {
        let mut child = Command::new(self.program)
            .envs(self.envs.iter().map(|(k, v)| (k, v)))
            .args(&self.base_args)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => {
                    anyhow!("`{}` is not installed; install it with: {}", self.program, self.install_hint)
                }
                _ => anyhow!(e).context(format!("starting {}", self.program)),
            })?;
        let stdout = drain(child.stdout.take().context("no stdout")?);
        let stderr = drain(child.stderr.take().context("no stderr")?);
        let deadline = Instant::now() + self.timeout;
        let status = loop {
            if let Some(status) = child.try_wait()? {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                let out = Output { stdout: join(stdout), stderr: join(stderr) };
                bail!("{}", self.report(args, &format!("timed out after {:?}", self.timeout), &out));
            }
            thread::sleep(Duration::from_millis(20));
        };
        Ok((status, Output { stdout: join(stdout), stderr: join(stderr) }))
    }
}

/// The end of a long stream, where a client's error is: ctr redraws its
/// progress table ten times a second, so a call that hangs until its
/// timeout prints thousands of identical lines.
fn tail(text: &str) -> String {
    const KEEP: usize = 6000;
    if text.len() <= KEEP {
        return text.to_string();
    }
    let mut start = text.len() - KEEP;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    format!("[... {start} earlier bytes left out ...]\n{}", &text[start..])
}

/// Reads a pipe to its end on its own thread, so a chatty client never
/// blocks on a full pipe while we wait for it.
fn drain(mut pipe: impl Read + Send + 'static) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = pipe.read_to_end(&mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    })
}

fn join(handle: thread::JoinHandle<String>) -> String {
    handle.join().unwrap_or_default()
}

/// Signs `client` in to the registry at `host` as `user` (the client's
/// own credential store, never the machine's).
pub(crate) fn login(client: &Client, host: &str, user: &str, password: &str, extra: &[&str]) -> Result<Output> {
    let mut args = vec!["login"];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["-u", user, "-p", password, host]);
    client.run(&args)
}

/// Starts a fresh berth from `bin` and runs `test` against it. An error
/// panics while the server is still up, so its log is printed with the
/// failure.
pub fn with_berth(bin: &str, test: impl FnOnce(&Berth) -> Result<()>) {
    let berth = Berth::start(bin).expect("berth starts");
    if let Err(e) = test(&berth) {
        panic!("{e:?}");
    }
}

/// `docker://HOST/PATH`, the skopeo name of an image in a registry.
pub fn docker_ref(host: &str, path: &str) -> String {
    format!("docker://{host}/{path}")
}

/// skopeo, talking plain HTTP to registries and accepting any signature
/// policy (the tests check content digests themselves). Credentials go to
/// a private auth file.
pub struct Skopeo(Client, std::sync::Arc<tempfile::TempDir>);

impl Skopeo {
    /// A skopeo client; fails when skopeo is not installed.
    pub fn new() -> Result<Skopeo> {
        let dir = tempfile::Builder::new().prefix("berth-skopeo-").tempdir()?;
        let mut client = Client::new("skopeo", "apt-get install -y skopeo");
        client.base_args.push("--insecure-policy".into());
        let auth = dir.path().join("auth.json").to_string_lossy().into_owned();
        client.envs.push(("REGISTRY_AUTH_FILE".into(), auth));
        client.run(&["--version"])?;
        Ok(Skopeo(client, std::sync::Arc::new(dir)))
    }

    /// The same client with more global options, e.g. `--debug` or
    /// `--override-arch arm64`.
    pub fn with_global(&self, args: &[&str]) -> Skopeo {
        let mut client = self.0.clone();
        client.base_args.extend(args.iter().map(|a| a.to_string()));
        Skopeo(client, self.1.clone())
    }

    /// `skopeo login` to `host`.
    pub fn login(&self, host: &str, user: &str, password: &str) -> Result<Output> {
        login(&self.0, host, user, password, &["--tls-verify=false"])
    }

    /// `skopeo copy` from `src` to `dst` over plain HTTP, with `extra`
    /// options (e.g. `--all`) before the two references.
    pub fn copy(&self, src: &str, dst: &str, extra: &[&str]) -> Result<Output> {
        let mut args = vec!["copy", "--src-tls-verify=false", "--dest-tls-verify=false"];
        args.extend_from_slice(extra);
        args.extend_from_slice(&[src, dst]);
        self.run(&args)
    }

    /// The manifest bytes exactly as the registry serves them.
    pub fn raw_manifest(&self, reference: &str) -> Result<Vec<u8>> {
        Ok(self.run(&["inspect", "--raw", "--tls-verify=false", reference])?.stdout.into_bytes())
    }

    /// `skopeo delete` of `reference` (a tag or a digest).
    pub fn delete(&self, reference: &str) -> Result<Output> {
        self.run(&["delete", "--tls-verify=false", reference])
    }
}

impl Deref for Skopeo {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.0
    }
}

/// Global flags giving a containers/storage client (podman, buildah) its own
/// image store under `dir`, with the vfs driver (no overlay mounts to clean
/// up), so tests running in parallel never share one.
pub(crate) fn private_storage(dir: &std::path::Path) -> Vec<String> {
    let path = |p: &str| dir.join(p).to_string_lossy().into_owned();
    vec!["--root".into(), path("root"), "--runroot".into(), path("run"), "--storage-driver".into(), "vfs".into()]
}

/// podman with its own storage in a temporary directory (vfs driver), so
/// tests running in parallel never share an image store.
pub struct Podman {
    client: Client,
    root: tempfile::TempDir,
}

impl Podman {
    /// A podman client with fresh, private storage; fails when podman is not
    /// installed.
    pub fn new() -> Result<Podman> {
        let root = tempfile::Builder::new().prefix("berth-podman-").tempdir()?;
        let mut client = Client::new("podman", "apt-get install -y podman");
        client.base_args = private_storage(root.path());
        client.base_args.extend(["--events-backend".into(), "none".into()]);
        client.envs.push(("REGISTRY_AUTH_FILE".into(), root.path().join("auth.json").to_string_lossy().into_owned()));
        client.run(&["--version"])?;
        Ok(Podman { client, root })
    }

    /// `podman login` to `host`.
    pub fn login(&self, host: &str, user: &str, password: &str) -> Result<Output> {
        login(&self.client, host, user, password, &["--tls-verify=false"])
    }

    /// Pushes `image` to `dest` (a `HOST/repo:tag` name) over plain HTTP and
    /// returns the manifest digest podman wrote.
    pub fn push(&self, image: &str, dest: &str) -> Result<String> {
        let digest_file = self.root.path().join("digest");
        let digest_arg = digest_file.to_string_lossy().into_owned();
        self.run(&["push", "--tls-verify=false", "--digestfile", &digest_arg, image, dest])?;
        Ok(std::fs::read_to_string(&digest_file)?.trim().to_string())
    }

    /// Pulls `image` over plain HTTP, with `extra` options (e.g. `--arch`).
    pub fn pull(&self, image: &str, extra: &[&str]) -> Result<Output> {
        let mut args = vec!["pull", "--tls-verify=false"];
        args.extend_from_slice(extra);
        args.push(image);
        self.run(&args)
    }

    /// A field of `podman image inspect`, e.g. `{{.Id}}` or `{{.Digest}}`.
    pub fn inspect(&self, image: &str, format: &str) -> Result<String> {
        Ok(self.run(&["image", "inspect", "--format", format, image])?.stdout.trim().to_string())
    }
}

impl Deref for Podman {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.client
    }
}

/// The docker CLI on the machine's Docker Engine. Images it builds, tags or
/// pulls through these methods are removed when it drops, so tests leave
/// the shared engine as they found it.
pub struct Docker {
    client: Client,
    created: RefCell<Vec<String>>,
    config: tempfile::TempDir,
}

impl Docker {
    /// A docker client with a private configuration directory (so logins
    /// stay with it); fails when docker is missing or the engine is down.
    pub fn new() -> Result<Docker> {
        let config = tempfile::Builder::new().prefix("berth-docker-").tempdir()?;
        let mut client = Client::new("docker", "apt-get install -y docker.io (and start the Docker Engine)");
        client.envs.push(("DOCKER_CONFIG".into(), config.path().to_string_lossy().into_owned()));
        client.run(&["version", "--format", "{{.Server.Version}}"])?;
        Ok(Docker { client, created: RefCell::new(Vec::new()), config })
    }

    /// `docker login` to `host`.
    pub fn login(&self, host: &str, user: &str, password: &str) -> Result<Output> {
        login(&self.client, host, user, password, &[])
    }

    /// The client's `config.json`, where `docker login` keeps credentials.
    pub fn config_file(&self) -> std::path::PathBuf {
        self.config.path().join("config.json")
    }

    /// `docker logout` from `host`.
    pub fn logout(&self, host: &str) -> Result<Output> {
        self.run(&["logout", host])
    }

    /// Remembers `image` (a name, not an id) for removal when this drops.
    pub fn track(&self, image: &str) {
        self.created.borrow_mut().push(image.to_string());
    }

    /// `docker tag src dst`; `dst` is removed when this drops.
    pub fn tag(&self, src: &str, dst: &str) -> Result<()> {
        self.track(dst);
        self.run(&["tag", src, dst]).map(drop)
    }

    /// `docker push image`; returns the manifest digest the engine reported.
    pub fn push(&self, image: &str) -> Result<String> {
        let out = self.run(&["push", image])?;
        out.stdout
            .split_whitespace()
            .skip_while(|w| *w != "digest:")
            .nth(1)
            .map(str::to_string)
            .with_context(|| format!("no digest in docker push output:\n{}", out.combined()))
    }

    /// `docker pull image` with `extra` options; `image` is removed when this
    /// drops.
    pub fn pull(&self, image: &str, extra: &[&str]) -> Result<Output> {
        self.track(image);
        let mut args = vec!["pull"];
        args.extend_from_slice(extra);
        args.push(image);
        self.run(&args)
    }

    /// `docker image rm image`.
    pub fn rmi(&self, image: &str) -> Result<Output> {
        self.run(&["image", "rm", image])
    }

    /// A field of `docker image inspect`, e.g. `{{.Id}}`.
    pub fn inspect(&self, image: &str, format: &str) -> Result<String> {
        Ok(self.run(&["image", "inspect", "--format", format, image])?.stdout.trim().to_string())
    }
}

impl Deref for Docker {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.client
    }
}

impl Drop for Docker {
    fn drop(&mut self) {
        for image in self.created.take() {
            // Already removed by the test is fine; anything else would only
            // leave a stray tag behind, which must not mask the test result.
            let _ = self.client.run(&["image", "rm", &image]);
        }
    }
}

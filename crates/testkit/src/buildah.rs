//! buildah with storage and credentials of its own in a temporary directory,
//! so tests never touch the machine's images or logins and never see each
//! other's.

use std::fs;
use std::ops::Deref;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use rand::{rngs::StdRng, RngCore, SeedableRng};

use crate::clients::{login, Client, Creds, Output};

/// Long enough for any push or pull these tests make on a loaded machine,
/// short enough that a client waiting forever fails its test in minutes.
const TIMEOUT: Duration = Duration::from_secs(120);

/// buildah on private vfs storage (no overlay mounts to clean up) with a
/// private auth file.
pub struct Buildah {
    client: Client,
    root: tempfile::TempDir,
}

impl Buildah {
    /// A buildah client with fresh, empty storage and no logins; fails when
    /// buildah is not installed.
    pub fn new() -> Result<Buildah> {
        let root = tempfile::Builder::new().prefix("berth-buildah-").tempdir()?;
        let mut client = Client::new("buildah", "apt-get install -y buildah");
        client.base_args = crate::clients::private_storage(root.path());
        // buildah refuses to run at all when REGISTRY_AUTH_FILE names a file
        // that does not exist yet, so start with an empty one.
        fs::write(root.path().join("auth.json"), br#"{"auths":{}}"#)?;
        client.envs.push(("REGISTRY_AUTH_FILE".into(), root.path().join("auth.json").to_string_lossy().into_owned()));
        client.timeout = TIMEOUT;
        client.run(&["--version"])?;
        Ok(Buildah { client, root })
    }

    /// The auth file `buildah login` writes to.
    pub fn auth_file(&self) -> PathBuf {
        self.root.path().join("auth.json")
    }

    /// `buildah login` to `host` over plain HTTP.
    pub fn login(&self, host: &str, user: &str, password: &str) -> Result<Output> {
        login(&self.client, host, user, password, &["--tls-verify=false"])
    }

    /// `buildah logout` from `host`.
    pub fn logout(&self, host: &str) -> Result<Output> {
        self.run(&["logout", host])
    }

    /// Builds `name` the way a Containerfile-less pipeline does: a working
    /// container `from scratch`, one file of `size` random bytes copied in,
    /// committed, and the working container removed.
    pub fn build_scratch(&self, name: &str, size: usize) -> Result<()> {
        let container = self.run(&["from", "scratch"])?.stdout.trim().to_string();
        let mut payload = vec![0u8; size];
        StdRng::from_entropy().fill_bytes(&mut payload);
        let file = self.root.path().join("payload.bin");
        fs::write(&file, payload)?;
        self.run(&["copy", &container, &file.to_string_lossy(), "/payload.bin"])?;
        self.run(&["commit", "--quiet", &container, name])?;
        self.run(&["rm", &container]).map(drop)
    }

    /// `buildah push` of the local `image` to `dest` (`HOST/repo:tag`) over
    /// plain HTTP; returns the manifest digest buildah wrote.
    pub fn push(&self, image: &str, dest: &str, creds: Creds) -> Result<String> {
        let digest_file = self.root.path().join("digest");
        // A stale file from an earlier push must not pass for this one.
        let _ = fs::remove_file(&digest_file);
        let digest_arg = digest_file.to_string_lossy().into_owned();
        let dest = format!("docker://{dest}");
        let user = creds_arg(creds);
        let mut args = vec!["push", "--tls-verify=false", "--digestfile", &digest_arg];
        if let Some(user) = &user {
            args.extend_from_slice(&["--creds", user]);
        }
        args.extend_from_slice(&[image, &dest]);
        self.run(&args)?;
        let digest = fs::read_to_string(&digest_file).context("buildah push wrote no digest file")?;
        Ok(digest.trim().to_string())
    }

    /// `buildah pull` of `image` (`HOST/repo:tag`) over plain HTTP.
    pub fn pull(&self, image: &str, creds: Creds) -> Result<Output> {
        self.pull_call(image, creds, true)
    }

    /// `buildah pull` that must fail; returns what buildah printed.
    pub fn pull_failing(&self, image: &str, creds: Creds) -> Result<Output> {
        self.pull_call(image, creds, false)
    }

    fn pull_call(&self, image: &str, creds: Creds, succeed: bool) -> Result<Output> {
        let user = creds_arg(creds);
        let source = format!("docker://{image}");
        let mut args = vec!["pull", "--tls-verify=false"];
        if let Some(user) = &user {
            args.extend_from_slice(&["--creds", user]);
        }
        args.push(&source);
        if succeed {
            self.run(&args)
        } else {
            self.run_failing(&args)
        }
    }

    /// The registry manifest digest of a local image (for a pulled image,
    /// the digest the registry served).
    pub fn image_digest(&self, image: &str) -> Result<String> {
        let out = self.run(&["inspect", "--type", "image", "--format", "{{.FromImageDigest}}", image])?;
        Ok(out.stdout.trim().to_string())
    }
}

/// `user:password` for `--creds`.
fn creds_arg(creds: Creds) -> Option<String> {
    creds.map(|(user, password)| format!("{user}:{password}"))
}

impl Deref for Buildah {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.client
    }
}

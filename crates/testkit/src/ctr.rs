//! containerd's `ctr` on the Docker Engine's containerd.
//!
//! Every [`Ctr`] works in a containerd namespace of its own, so tests running
//! side by side never see each other's images, and empties and removes that
//! namespace when it drops, so runs do not accumulate content in the shared
//! engine.

use std::cell::Cell;
use std::ops::Deref;
use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use rand::{rngs::StdRng, RngCore, SeedableRng};

use crate::clients::{Client, Creds, Output};

/// The socket of the containerd that the Docker Engine runs.
pub const CONTAINERD_SOCKET: &str = "/var/run/docker/containerd/containerd.sock";

const INSTALL_HINT: &str = "apt-get install -y containerd (it ships `ctr`; the tests talk to the Docker Engine's \
                            containerd at /var/run/docker/containerd/containerd.sock, so start docker.io too)";

/// Long enough for any push or pull these tests make on a loaded machine,
/// short enough that a client waiting forever fails its test in minutes.
const TIMEOUT: Duration = Duration::from_secs(120);

/// `ctr` bound to one private containerd namespace.
pub struct Ctr {
    client: Client,
    namespace: String,
    removed: Cell<bool>,
}

impl Ctr {
    /// A `ctr` on a fresh namespace named after `label`; fails when `ctr`
    /// is missing or the engine's containerd does not answer.
    pub fn new(label: &str) -> Result<Ctr> {
        let namespace = format!("berth-test-{label}-{:08x}", StdRng::from_entropy().next_u32());
        let mut client = Client::new("ctr", INSTALL_HINT);
        client.base_args = vec!["--address".into(), CONTAINERD_SOCKET.into(), "--namespace".into(), namespace.clone()];
        client.timeout = TIMEOUT;
        // `ctr version` asks the daemon too, so a stopped engine fails here
        // rather than in the middle of a test.
        client.run(&["version"]).context("containerd is not reachable; is the Docker Engine running?")?;
        Ok(Ctr { client, namespace, removed: Cell::new(false) })
    }

    /// The containerd namespace this client works in.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// `ctr images import` of an image archive (OCI layout tar or `docker
    /// save`). `base_name` names the tags of an OCI archive, whose
    /// `ref.name` annotations hold only the tag.
    pub fn import(&self, archive: &Path, base_name: Option<&str>) -> Result<Output> {
        let archive = archive.to_string_lossy();
        let mut args = vec!["images", "import"];
        if let Some(name) = base_name {
            args.extend_from_slice(&["--base-name", name]);
        }
        args.push(&archive);
        self.run(&args)
    }

    /// `ctr images tag src dst`.
    pub fn tag(&self, src: &str, dst: &str) -> Result<()> {
        self.run(&["images", "tag", src, dst]).map(drop)
    }

    /// `ctr images push --plain-http` of `reference` to the registry it
    /// names.
    pub fn push(&self, reference: &str, creds: Creds) -> Result<Output> {
        self.registry("push", reference, creds, true)
    }

    /// `ctr images pull --plain-http` of `reference`.
    pub fn pull(&self, reference: &str, creds: Creds) -> Result<Output> {
        self.registry("pull", reference, creds, true)
    }

    /// `ctr images pull` that must fail; returns what ctr printed.
    pub fn pull_failing(&self, reference: &str, creds: Creds) -> Result<Output> {
        self.registry("pull", reference, creds, false)
    }

    /// `ctr images push` that must fail; returns what ctr printed.
    pub fn push_failing(&self, reference: &str, creds: Creds) -> Result<Output> {
        self.registry("push", reference, creds, false)
    }

    /// `images <verb> --plain-http [--user u:p] reference` (Berth serves
    /// plain HTTP on loopback in the tests), expected to succeed or to fail.
    fn registry(&self, verb: &str, reference: &str, creds: Creds, succeed: bool) -> Result<Output> {
        let user = creds.map(|(user, password)| format!("{user}:{password}"));
        let mut args = vec!["images", verb, "--plain-http"];
        if let Some(user) = &user {
            args.extend_from_slice(&["--user", user]);
        }
        args.push(reference);
        if succeed {
            self.run(&args)
        } else {
            self.run_failing(&args)
        }
    }

    /// The digest of the manifest (or index) the image `reference` points
    /// at, as `ctr images ls` shows it.
    pub fn image_digest(&self, reference: &str) -> Result<String> {
        let filter = format!("name=={reference}");
        let out = self.run(&["images", "ls", &filter])?;
        out.stdout
            .lines()
            .skip(1)
            .map(|line| line.split_whitespace().collect::<Vec<_>>())
            .find(|cols| cols.first() == Some(&reference))
            .and_then(|cols| cols.get(2).map(|d| d.to_string()))
            .with_context(|| format!("no image {reference} in namespace {}:\n{}", self.namespace, out.stdout))
    }

    /// The digests of every blob in this namespace's content store.
    pub fn content_digests(&self) -> Result<Vec<String>> {
        Ok(self.run(&["content", "ls", "-q"])?.stdout.lines().map(str::to_string).collect())
    }

    /// A text blob (a manifest or config) from the content store.
    pub fn content_text(&self, digest: &str) -> Result<String> {
        Ok(self.run(&["content", "get", digest])?.stdout)
    }

    /// Removes every lease, image, blob and snapshot of the namespace, then
    /// the namespace itself; containerd refuses that last step while
    /// anything is left, so success means nothing stayed behind.
    pub fn remove_namespace(&self) -> Result<()> {
        if self.removed.get() {
            return Ok(());
        }
        // Leases first: a client killed by the timeout may leave one that
        // would keep its content alive.
        self.remove_listed(&["leases", "ls", "-q"], &["leases", "rm"])?;
        // `--sync` runs the garbage collector before answering, which drops
        // the unpacked snapshots and unreferenced blobs of these images.
        self.remove_listed(&["images", "ls", "-q"], &["images", "rm", "--sync"])?;
        self.remove_listed(&["content", "ls", "-q"], &["content", "rm"])?;
        self.remove_snapshots()?;
        self.run(&["namespaces", "rm", &self.namespace])?;
        self.removed.set(true);
        Ok(())
    }

    fn remove_listed(&self, list: &[&str], remove: &[&str]) -> Result<()> {
        let out = self.run(list)?;
        let items: Vec<&str> = out.stdout.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
        if items.is_empty() {
            return Ok(());
        }
        let mut args = remove.to_vec();
        args.extend(items);
        self.run(&args).map(drop)
    }

    /// Snapshots form chains and a parent cannot go before its children, so
    /// each pass removes the ones nothing else builds on.
    fn remove_snapshots(&self) -> Result<()> {
        for _ in 0..64 {
            let out = self.run(&["snapshots", "ls"])?;
            let rows: Vec<Vec<&str>> = out.stdout.lines().skip(1).map(|l| l.split_whitespace().collect()).collect();
            let leaves: Vec<&str> = rows
                .iter()
                .filter_map(|r| r.first().copied())
                .filter(|key| !rows.iter().any(|r| r.len() > 2 && r[1] == *key))
                .collect();
            if leaves.is_empty() {
                return Ok(());
            }
            let mut args = vec!["snapshots", "rm"];
            args.extend(leaves);
            self.run(&args)?;
        }
        bail!("snapshots of namespace {} did not go away", self.namespace)
    }
}

impl Deref for Ctr {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.client
    }
}

impl Drop for Ctr {
    fn drop(&mut self) {
        // A failed cleanup must not hide the test's own result, but it should
        // not go unnoticed either: leftovers pile up in the shared engine.
        if let Err(e) = self.remove_namespace() {
            eprintln!("could not remove containerd namespace {}: {e:?}", self.namespace);
        }
    }
}

//! containerd's `ctr` against a real berth, the way a new user drives it:
//! `ctr images import` an archive, `ctr images tag` it to the registry,
//! `ctr images push --plain-http --user ...`, then `ctr images pull` into
//! another namespace and compare digests.
//!
//! containerd shares blobs between namespaces, so the pushing namespace is
//! removed (its content garbage-collected) before pulling; otherwise the
//! pull would find every blob locally and never download it from Berth.

use anyhow::{ensure, Context, Result};
use berth_testkit::clients::{with_berth, Creds, Docker, Output};
use berth_testkit::ctr::Ctr;
use berth_testkit::fixtures::{docker_scratch_image, Image, OciLayout};
use berth_testkit::Berth;
use berth_testkit::{ADMIN_PASSWORD, ADMIN_USER};

const BERTH: &str = env!("CARGO_BIN_EXE_berth");

const ADMIN: Creds = Some((ADMIN_USER, ADMIN_PASSWORD));
/// Harbor's role id for developers (pull and push).
const DEVELOPER: u32 = 2;
/// The name `ctr images import --base-name` gives the fixture's `v1` tag.
const FIXTURE: &str = "berth.test/fixture";
/// What ctr prints when the registry refuses a caller.
const REFUSED: &[&str] = &["unauthorized", "denied", "forbidden", "not found"];

/// A fixture image in an OCI layout, imported into a fresh namespace as
/// `FIXTURE:v1`.
struct Imported {
    ctr: Ctr,
    layout: OciLayout,
    image: Image,
}

/// Writes an image with layers of `layer_sizes` bytes, archives the layout
/// and imports the archive with `ctr images import`.
fn import_fixture(layer_sizes: &[u64]) -> Result<Imported> {
    let layout = OciLayout::new()?;
    let image = layout.add_image("v1", layer_sizes)?;
    let dir = tempfile::Builder::new().prefix("berth-ctr-archive-").tempdir()?;
    let archive = dir.path().join("image.tar");
    layout.write_tar(&archive)?;
    let ctr = Ctr::new("push")?;
    ctr.import(&archive, Some(FIXTURE))?;
    let local = ctr.image_digest(&format!("{FIXTURE}:v1"))?;
    ensure!(local == image.manifest.digest, "imported image is {local}, the archive holds {}", image.manifest.digest);
    Ok(Imported { ctr, layout, image })
}

impl Imported {
    /// Tags the fixture `HOST/path` and pushes it.
    fn push(&self, berth: &Berth, path: &str, creds: Creds) -> Result<Output> {
        let reference = format!("{}/{path}", berth.host);
        self.ctr.tag(&format!("{FIXTURE}:v1"), &reference)?;
        self.ctr.push(&reference, creds)
    }

    /// Removes the pushing namespace, then pulls `HOST/path` into a fresh
    /// one and checks that containerd got exactly the fixture.
    fn pull_and_check(&self, berth: &Berth, path: &str, creds: Creds) -> Result<()> {
        self.ctr.remove_namespace()?;
        pull_and_check(berth, path, creds, &self.image, &self.layout)
    }
}

/// Pulls `HOST/path` into a fresh namespace and checks its manifest digest,
/// that every blob of `image` arrived (containerd verifies each digest as
/// it writes) and that the manifest bytes are those in `layout`.
fn pull_and_check(berth: &Berth, path: &str, creds: Creds, image: &Image, layout: &OciLayout) -> Result<()> {
    let reference = format!("{}/{path}", berth.host);
    let ctr = Ctr::new("pull")?;
    ctr.pull(&reference, creds)?;
    let pulled = ctr.image_digest(&reference)?;
    ensure!(pulled == image.manifest.digest, "pulled {reference} is {pulled}, pushed {}", image.manifest.digest);
    let content = ctr.content_digests()?;
    for blob in image.blobs() {
        ensure!(content.contains(&blob.digest), "blob {} of {reference} was not pulled: {content:?}", blob.digest);
    }
    let local = std::fs::read_to_string(layout.blob_path(&image.manifest.digest))?;
    ensure!(ctr.content_text(&image.manifest.digest)? == local, "pulled manifest differs from the pushed one");
    ctr.remove_namespace()
}

/// Creates `name` as a developer of `project`; returns the password.
fn developer(berth: &Berth, project: &str, name: &str) -> Result<String> {
    let password = format!("{name}-Secret-1");
    berth.create_user(name, &password)?;
    berth.add_member(project, name, DEVELOPER)?;
    Ok(password)
}

/// Fails unless ctr's output names a refusal.
fn ensure_refused(out: &Output, what: &str) -> Result<()> {
    let text = out.combined().to_lowercase();
    ensure!(REFUSED.iter().any(|n| text.contains(n)), "{what}: expected one of {REFUSED:?} in:\n{}", out.combined());
    Ok(())
}

#[test]
fn developer_pushes_and_pulls_a_private_image() {
    with_berth(BERTH, |berth| {
        berth.create_project("team", false)?;
        let password = developer(berth, "team", "dev")?;
        let creds = Some(("dev", password.as_str()));
        let src = import_fixture(&[4096, 1 << 20])?;
        src.push(berth, "team/app:1", creds)?;
        src.pull_and_check(berth, "team/app:1", creds)
    })
}

#[test]
fn public_image_pulls_anonymously() {
    with_berth(BERTH, |berth| {
        berth.create_project("open", true)?;
        let src = import_fixture(&[4096])?;
        src.push(berth, "open/app:1", ADMIN)?;
        src.pull_and_check(berth, "open/app:1", None)
    })
}

#[test]
fn private_image_is_refused_to_strangers() {
    with_berth(BERTH, |berth| {
        berth.create_project("team", false)?;
        berth.create_user("outsider", "Outsider-Secret-1")?;
        let src = import_fixture(&[4096])?;
        src.push(berth, "team/app:1", ADMIN)?;
        let outsider = Some(("outsider", "Outsider-Secret-1"));
        let reference = format!("{}/team/app:1", berth.host);

        let ctr = Ctr::new("stranger")?;
        ensure_refused(&ctr.pull_failing(&reference, None)?, "anonymous pull")?;
        ensure_refused(&ctr.pull_failing(&reference, outsider)?, "pull by a non-member")?;
        ensure_refused(&ctr.pull_failing(&reference, Some(("outsider", "Wrong-Secret-1")))?, "wrong password")?;
        ensure!(ctr.content_digests()?.is_empty(), "a refused pull left content behind");
        ensure_refused(&src.ctr.push_failing(&reference, outsider)?, "push by a non-member")?;
        ctr.remove_namespace()
    })
}

/// Pushes the fixture to `first`, then again to `second` in the same
/// project. Berth already holds every layer the second time, so no blob is
/// uploaded; in a public project the blob checks succeed anonymously and
/// the first request refused is the manifest PUT, which ctr must retry with
/// a token and its body.
fn repush(public: bool, first: &str, second: &str) {
    with_berth(BERTH, |berth| {
        berth.create_project("proj", public)?;
        let password = developer(berth, "proj", "dev")?;
        let creds = Some(("dev", password.as_str()));
        let src = import_fixture(&[4096, 256 << 10])?;
        src.push(berth, first, creds)?;
        src.push(berth, second, creds)
            .with_context(|| format!("pushing again, to {second}, layers already in Berth"))?;
        src.pull_and_check(berth, second, creds)
    })
}

#[test]
fn repush_to_a_new_tag_of_a_private_repository() {
    repush(false, "proj/app:1", "proj/app:2");
}

#[test]
fn repush_to_another_repository_of_a_private_project() {
    repush(false, "proj/app:1", "proj/copy:1");
}

#[test]
fn repush_to_a_new_tag_of_a_public_repository() {
    repush(true, "proj/app:1", "proj/app:2");
}

#[test]
fn repush_to_another_repository_of_a_public_project() {
    repush(true, "proj/app:1", "proj/copy:1");
}

/// `docker save` writes Docker's own archive format; ctr imports it with
/// Docker media types, which must survive the round trip too.
#[test]
fn docker_saved_image_round_trips() {
    with_berth(BERTH, |berth| {
        berth.create_project("team", false)?;
        let docker = Docker::new()?;
        let port = berth.host.rsplit(':').next().unwrap_or_default();
        let local = format!("berth-ctr-{port}:1");
        docker_scratch_image(&docker, &local)?;
        let dir = tempfile::Builder::new().prefix("berth-ctr-archive-").tempdir()?;
        let archive = dir.path().join("image.tar");
        docker.run(&["save", "-o", &archive.to_string_lossy(), &local])?;

        let ctr = Ctr::new("docker")?;
        ctr.import(&archive, None)?;
        let imported = format!("docker.io/library/{local}");
        let digest = ctr.image_digest(&imported)?;
        let reference = format!("{}/team/saved:1", berth.host);
        ctr.tag(&imported, &reference)?;
        ctr.push(&reference, ADMIN)?;
        ctr.remove_namespace()?;

        let puller = Ctr::new("pull")?;
        puller.pull(&reference, ADMIN)?;
        let pulled = puller.image_digest(&reference)?;
        ensure!(pulled == digest, "pulled {reference} is {pulled}, pushed {digest}");
        puller.remove_namespace()
    })
}

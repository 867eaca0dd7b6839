//! buildah against a real berth, the way a pipeline without a Containerfile
//! uses it: `buildah from scratch`, copy a file in, commit, `buildah push`,
//! then `buildah pull` into separate, empty storage and compare digests.

use anyhow::{ensure, Context, Result};
use berth_testkit::buildah::Buildah;
use berth_testkit::clients::{with_berth, Creds, Output};
use berth_testkit::Berth;
use berth_testkit::{ADMIN_PASSWORD, ADMIN_USER};

const BERTH: &str = env!("CARGO_BIN_EXE_berth");

const ADMIN: Creds = Some((ADMIN_USER, ADMIN_PASSWORD));
/// Harbor's role id for developers (pull and push).
const DEVELOPER: u32 = 2;
/// The local name every test builds its image under.
const LOCAL: &str = "berth-fixture:1";
/// What buildah prints when the registry refuses a caller.
const REFUSED: &[&str] = &["unauthorized", "denied", "forbidden", "not found", "authentication required"];

/// Creates `name` as a developer of `project`; returns the password.
fn developer(berth: &Berth, project: &str, name: &str) -> Result<String> {
    let password = format!("{name}-Secret-1");
    berth.create_user(name, &password)?;
    berth.add_member(project, name, DEVELOPER)?;
    Ok(password)
}

/// A buildah with a freshly built `LOCAL` image of `size` random bytes.
fn built(size: usize) -> Result<Buildah> {
    let buildah = Buildah::new()?;
    buildah.build_scratch(LOCAL, size)?;
    Ok(buildah)
}

/// Pulls `HOST/path` into new, empty storage and checks that the registry
/// served the manifest `digest`.
fn pull_and_check(berth: &Berth, path: &str, creds: Creds, digest: &str) -> Result<()> {
    let reference = format!("{}/{path}", berth.host);
    let puller = Buildah::new()?;
    puller.pull(&reference, creds)?;
    let pulled = puller.image_digest(&reference)?;
    ensure!(pulled == digest, "pulled {reference} is {pulled}, pushed {digest}");
    Ok(())
}

/// Fails unless buildah's output names a refusal.
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
        let buildah = built(1 << 20)?;
        let digest = buildah.push(LOCAL, &format!("{}/team/app:1", berth.host), creds)?;
        pull_and_check(berth, "team/app:1", creds, &digest)
    })
}

#[test]
fn login_covers_push_and_pull_until_logout() {
    with_berth(BERTH, |berth| {
        berth.create_project("team", false)?;
        let password = developer(berth, "team", "dev")?;
        let buildah = built(4096)?;
        let wrong =
            buildah.run_failing(&["login", "--tls-verify=false", "-u", "dev", "-p", "Wrong-1a", &berth.host])?;
        // buildah words a refused login in its own way.
        ensure!(
            wrong.combined().contains("invalid username/password"),
            "login with a wrong password:\n{}",
            wrong.combined()
        );

        buildah.login(&berth.host, "dev", &password)?;
        let auth = std::fs::read_to_string(buildah.auth_file())?;
        ensure!(auth.contains(&berth.host), "login did not store credentials for {}:\n{auth}", berth.host);
        let reference = format!("{}/team/app:1", berth.host);
        let digest = buildah.push(LOCAL, &reference, None)?;
        buildah.pull(&reference, None)?;
        ensure!(buildah.image_digest(&reference)? == digest, "pull after login gave another image than {digest}");

        buildah.logout(&berth.host)?;
        let auth = std::fs::read_to_string(buildah.auth_file())?;
        ensure!(!auth.contains(&berth.host), "logout left credentials for {}:\n{auth}", berth.host);
        let puller = Buildah::new()?;
        ensure_refused(&puller.pull_failing(&reference, None)?, "pull after logout")?;
        let again = buildah.run_failing(&["logout", &berth.host])?;
        ensure!(again.combined().contains("not logged into"), "second logout:\n{}", again.combined());
        Ok(())
    })
}

#[test]
fn public_image_pulls_anonymously() {
    with_berth(BERTH, |berth| {
        berth.create_project("open", true)?;
        let buildah = built(4096)?;
        let digest = buildah.push(LOCAL, &format!("{}/open/app:1", berth.host), ADMIN)?;
        pull_and_check(berth, "open/app:1", None, &digest)
    })
}

#[test]
fn private_image_is_refused_to_strangers() {
    with_berth(BERTH, |berth| {
        berth.create_project("team", false)?;
        berth.create_user("outsider", "Outsider-Secret-1")?;
        let buildah = built(4096)?;
        let reference = format!("{}/team/app:1", berth.host);
        buildah.push(LOCAL, &reference, ADMIN)?;

        let puller = Buildah::new()?;
        ensure_refused(&puller.pull_failing(&reference, None)?, "anonymous pull")?;
        ensure_refused(&puller.pull_failing(&reference, Some(("outsider", "Outsider-Secret-1")))?, "non-member pull")?;
        ensure_refused(&puller.pull_failing(&reference, Some(("outsider", "Wrong-Secret-1")))?, "wrong password")?;
        let images = puller.run(&["images", "--quiet"])?;
        ensure!(images.stdout.trim().is_empty(), "a refused pull stored an image:\n{}", images.stdout);
        Ok(())
    })
}

/// Pushes one image to `first`, then again to `second` in the same
/// project, where Berth already holds every layer; both pushes must report
/// the same digest and the second name must pull.
fn repush(public: bool, first: &str, second: &str) {
    with_berth(BERTH, |berth| {
        berth.create_project("proj", public)?;
        let password = developer(berth, "proj", "dev")?;
        let creds = Some(("dev", password.as_str()));
        let buildah = built(256 << 10)?;
        let digest = buildah.push(LOCAL, &format!("{}/{first}", berth.host), creds)?;
        let again = buildah
            .push(LOCAL, &format!("{}/{second}", berth.host), creds)
            .with_context(|| format!("pushing again, to {second}, layers already in Berth"))?;
        ensure!(again == digest, "second push wrote {again}, the first {digest}");
        pull_and_check(berth, second, creds, &digest)
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

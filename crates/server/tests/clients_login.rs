//! Real clients signed in as project members of different roles: `docker
//! login`/`podman login` and skopeo's per-command credentials must get exactly
//! what the role allows (pull for guests, push for developers, delete for
//! maintainers) and clear, recognisable errors otherwise.

use std::process::Command;

use anyhow::{ensure, Context, Result};
use berth_testkit::clients::{docker_ref, with_berth, Docker, Output, Podman, Skopeo};
use berth_testkit::fixtures::{docker_scratch_image, OciLayout};
use berth_testkit::Berth;
use berth_testkit::{ADMIN_PASSWORD, ADMIN_USER};
use serde_json::{json, Value};

const BERTH: &str = env!("CARGO_BIN_EXE_berth");

const DEVELOPER: u32 = 2;
const GUEST: u32 = 3;
const MAINTAINER: u32 = 4;
const LIMITED_GUEST: u32 = 5;

/// What clients print when the registry refuses credentials or access.
const REFUSED: &[&str] = &["unauthorized", "denied", "authentication required", "forbidden"];

/// POSTs `body` to the management API as the admin (curl, so the tests stay
/// synchronous) and fails unless it answers 201.
fn api_post(berth: &Berth, path: &str, body: &Value) -> Result<()> {
    let out = Command::new("curl")
        .args(["-sS", "-w", "\n%{http_code}", "-u", &format!("{ADMIN_USER}:{ADMIN_PASSWORD}")])
        .args(["-H", "Content-Type: application/json", "-d", &body.to_string(), &berth.api(path)])
        .output()
        .context("running curl (apt-get install -y curl)")?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let (answer, code) = stdout.rsplit_once('\n').unwrap_or(("", &stdout));
    ensure!(code == "201", "POST {path} {body} answered {code}: {answer}{}", String::from_utf8_lossy(&out.stderr));
    Ok(())
}

/// Creates the user `name` (POST /users).
fn create_user(berth: &Berth, name: &str, password: &str) -> Result<()> {
    let body = json!({
        "username": name,
        "email": format!("{name}@example.com"),
        "realname": name,
        "password": password,
        "comment": "clients_login",
    });
    api_post(berth, "users", &body)
}

/// Makes `username` a member of `project` with Harbor role `role_id`.
fn add_member(berth: &Berth, project: &str, username: &str, role_id: u32) -> Result<()> {
    let body = json!({ "role_id": role_id, "member_user": { "username": username } });
    api_post(berth, &format!("projects/{project}/members"), &body)
}

/// A new user who is a `role_id` member of `project`; returns the password.
fn member(berth: &Berth, project: &str, name: &str, role_id: u32) -> Result<String> {
    let password = format!("{name}-Secret-{role_id}");
    create_user(berth, name, &password)?;
    add_member(berth, project, name, role_id)?;
    Ok(password)
}

/// Fails unless the client's output mentions one of `needles`
/// (case-insensitive); the message carries the full output.
fn ensure_says(out: &Output, what: &str, needles: &[&str]) -> Result<()> {
    let text = out.combined().to_lowercase();
    ensure!(
        needles.iter().any(|n| text.contains(n)),
        "{what}: expected one of {needles:?} in the client output:\n{}",
        out.combined()
    );
    Ok(())
}

/// The port part of `host`, to keep local image names unique per test.
fn port(berth: &Berth) -> &str {
    berth.host.rsplit(':').next().unwrap_or_default()
}

#[test]
fn docker_login_roles_govern_push_and_pull() {
    with_berth(BERTH, |berth| {
        berth.create_project("team", false)?;
        let dev_password = member(berth, "team", "dora", DEVELOPER)?;
        let guest_password = member(berth, "team", "gus", GUEST)?;
        let docker = Docker::new()?;
        let local = format!("library/login-{}:1", port(berth));
        docker_scratch_image(&docker, &local)?;
        let remote = format!("{}/team/app:1", berth.host);
        docker.tag(&local, &remote)?;

        docker.login(&berth.host, "dora", &dev_password)?;
        docker.push(&remote)?;
        docker.logout(&berth.host)?;
        docker.rmi(&remote)?;
        let out = docker.run_failing(&["pull", &remote])?;
        ensure_says(&out, "anonymous pull of a private project", &["pull access denied", "unauthorized"])?;

        docker.login(&berth.host, "gus", &guest_password)?;
        docker.pull(&remote, &[])?;
        let second = format!("{}/team/app:2", berth.host);
        docker.tag(&local, &second)?;
        let out = docker.run_failing(&["push", &second])?;
        ensure_says(&out, "guest push", &["denied", "unauthorized"])?;

        docker.logout(&berth.host)?;
        let out = docker.run_failing(&["login", "-u", "dora", "-p", "Wrong-Password-9", &berth.host])?;
        ensure_says(&out, "login with a wrong password", &["unauthorized", "incorrect"])?;
        Ok(())
    })
}

/// Changes `user`'s own password (PUT /users/{id}/password, signed in as the user).
fn change_password(berth: &Berth, user: &str, old: &str, new: &str) -> Result<()> {
    let credentials = format!("{user}:{old}");
    let me = Command::new("curl").args(["-sS", "-f", "-u", &credentials, &berth.api("users/current")]).output()?;
    let me: Value = serde_json::from_slice(&me.stdout).context("users/current is not JSON")?;
    let body = json!({ "old_password": old, "new_password": new }).to_string();
    let path = berth.api(&format!("users/{}/password", me["user_id"]));
    let out = Command::new("curl")
        .args(["-sS", "-w", "%{http_code}", "-o", "/dev/null", "-X", "PUT", "-u", &credentials])
        .args(["-H", "Content-Type: application/json", "-d", &body, &path])
        .output()?;
    ensure!(String::from_utf8_lossy(&out.stdout) == "200", "password change answered {:?}", out);
    Ok(())
}

#[test]
fn docker_keeps_a_refresh_token_that_a_password_change_revokes() {
    with_berth(BERTH, |berth| {
        berth.create_project("team", false)?;
        let password = member(berth, "team", "dora", DEVELOPER)?;
        let docker = Docker::new()?;
        let local = format!("library/refresh-{}:1", port(berth));
        docker_scratch_image(&docker, &local)?;
        docker.login(&berth.host, "dora", &password)?;
        // The engine keeps the refresh token it was given instead of the password.
        let config: Value = serde_json::from_str(&std::fs::read_to_string(docker.config_file())?)?;
        let entry = &config["auths"][&berth.host];
        ensure!(entry["identitytoken"].as_str().is_some_and(|t| t.starts_with("berth_rt_")), "{config}");
        ensure!(!config.to_string().contains(&password), "the password is stored: {config}");
        let first = format!("{}/team/app:1", berth.host);
        docker.tag(&local, &first)?;
        docker.push(&first)?;

        change_password(berth, "dora", &password, "Dora-Changed-Pass-2")?;
        let second = format!("{}/team/app:2", berth.host);
        docker.tag(&local, &second)?;
        let out = docker.run_failing(&["push", &second])?;
        ensure_says(&out, "push with a revoked refresh token", &["sign in again"])?;
        docker.login(&berth.host, "dora", "Dora-Changed-Pass-2")?;
        docker.push(&second)?;
        Ok(())
    })
}

#[test]
fn docker_anonymous_pulls_public_library_but_cannot_push() {
    with_berth(BERTH, |berth| {
        let docker = Docker::new()?;
        let local = format!("library/public-{}:1", port(berth));
        let id = docker_scratch_image(&docker, &local)?;
        let remote = format!("{}/library/pub:1", berth.host);
        docker.tag(&local, &remote)?;
        docker.login(&berth.host, ADMIN_USER, ADMIN_PASSWORD)?;
        docker.push(&remote)?;
        docker.logout(&berth.host)?;
        docker.rmi(&remote)?;

        docker.pull(&remote, &[])?;
        ensure!(docker.inspect(&remote, "{{.Id}}")? == id, "anonymous pull gave another image than {id}");
        // A single-component name means library/NAME.
        let short = format!("{}/pub:1", berth.host);
        docker.pull(&short, &[])?;
        ensure!(docker.inspect(&short, "{{.Id}}")? == id, "pull of {short} gave another image than {id}");

        let anon = format!("{}/library/anon:1", berth.host);
        docker.tag(&local, &anon)?;
        // The engine retries an upload unless the error is a recognised
        // UNAUTHORIZED/DENIED; either way the push must end refused.
        let out = docker.run_failing(&["push", &anon])?;
        ensure_says(&out, "anonymous push to library", REFUSED)?;
        Ok(())
    })
}

#[test]
fn podman_login_roles_govern_push_and_pull() {
    with_berth(BERTH, |berth| {
        berth.create_project("team", false)?;
        let dev_password = member(berth, "team", "dora", DEVELOPER)?;
        let limited_password = member(berth, "team", "lim", LIMITED_GUEST)?;
        let podman = Podman::new()?;
        // A layer fixture is a gzip tar: exactly what `podman import` takes.
        let layout = OciLayout::new()?;
        let rootfs = layout.add_image("rootfs", &[16 << 10])?;
        let tarball = layout.blob_path(&rootfs.layers[0].digest);
        podman.run(&["import", &tarball.to_string_lossy(), "localhost/imported:1"])?;

        podman.login(&berth.host, "dora", &dev_password)?;
        let remote = format!("{}/team/app:1", berth.host);
        let pushed = podman.push("localhost/imported:1", &remote)?;
        podman.run(&["logout", &berth.host])?;
        podman.run(&["rmi", "localhost/imported:1"])?;
        let out = podman.run_failing(&["pull", "--tls-verify=false", &remote])?;
        ensure_says(&out, "anonymous pull of a private project", REFUSED)?;

        podman.login(&berth.host, "lim", &limited_password)?;
        podman.pull(&remote, &[])?;
        let digest = podman.inspect(&remote, "{{.Digest}}")?;
        ensure!(digest == pushed, "limited guest pulled {digest}, developer pushed {pushed}");
        let second = format!("{}/team/app:2", berth.host);
        let out = podman.run_failing(&["push", "--tls-verify=false", &remote, &second])?;
        ensure_says(&out, "limited guest push", REFUSED)?;
        Ok(())
    })
}

#[test]
fn skopeo_per_command_credentials_follow_roles() {
    with_berth(BERTH, |berth| {
        berth.create_project("team", false)?;
        let dev = format!("dora:{}", member(berth, "team", "dora", DEVELOPER)?);
        let guest = format!("gus:{}", member(berth, "team", "gus", GUEST)?);
        let maintainer = format!("mia:{}", member(berth, "team", "mia", MAINTAINER)?);
        let skopeo = Skopeo::new()?;
        let src = OciLayout::new()?;
        let image = src.add_image("v1", &[4096])?;
        let dest = docker_ref(&berth.host, "team/app:v1");

        skopeo.copy(&src.reference("v1"), &dest, &["--dest-creds", &dev])?;
        let back = OciLayout::new()?;
        skopeo.copy(&dest, &back.reference("v1"), &["--src-creds", &dev])?;
        let pulled = back.tagged("v1")?;
        ensure!(pulled.digest == image.manifest.digest, "pulled {} != pushed {}", pulled.digest, image.manifest.digest);

        let wrong = ["copy", "--src-tls-verify=false", "--dest-tls-verify=false", "--dest-creds", "dora:Wrong-Pass-1"];
        let other = docker_ref(&berth.host, "team/app:v2");
        let out = skopeo.run_failing(&[&wrong[..], &[&src.reference("v1"), &other]].concat())?;
        ensure_says(&out, "push with a wrong password", &["unauthorized", "authentication required"])?;

        let out = skopeo.run(&["inspect", "--tls-verify=false", "--creds", &guest, &dest])?;
        let inspected: Value = serde_json::from_str(&out.stdout).context("skopeo inspect output is not JSON")?;
        ensure!(inspected["Digest"] == image.manifest.digest, "guest inspect gave {inspected}");

        let out = skopeo.run_failing(&["delete", "--tls-verify=false", "--creds", &dev, &dest])?;
        ensure_says(&out, "developer delete", REFUSED)?;
        skopeo.run(&["inspect", "--tls-verify=false", "--creds", &dev, &dest])?;

        skopeo.run(&["delete", "--tls-verify=false", "--creds", &maintainer, &dest])?;
        let out = skopeo.run_failing(&["inspect", "--tls-verify=false", "--creds", &maintainer, &dest])?;
        ensure_says(&out, "inspect after delete", &["manifest unknown", "not found"])?;
        Ok(())
    })
}

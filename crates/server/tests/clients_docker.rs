//! The docker CLI and the machine's Docker Engine against a real berth
//! (127.0.0.0/8 registries need no TLS for docker). Every image a test
//! creates is removed when its `Docker` value drops.

use anyhow::ensure;
use berth_testkit::clients::{docker_ref, with_berth, Docker, Skopeo};
use berth_testkit::fixtures::{docker_scratch_image, OciLayout};
use berth_testkit::Berth;
use berth_testkit::{ADMIN_PASSWORD, ADMIN_USER};

const BERTH: &str = env!("CARGO_BIN_EXE_berth");

/// The port part of `host`, to keep local image names unique per test.
fn port(berth: &Berth) -> &str {
    berth.host.rsplit(':').next().unwrap_or_default()
}

#[test]
fn push_rmi_pull_restores_the_same_image() {
    with_berth(BERTH, |berth| {
        let docker = Docker::new()?;
        docker.login(&berth.host, ADMIN_USER, ADMIN_PASSWORD)?;
        berth.create_project("docker", false)?;
        let local = format!("library/scratch-{}:1", port(berth));
        let id = docker_scratch_image(&docker, &local)?;

        let remote = format!("{}/docker/scratch:1", berth.host);
        docker.tag(&local, &remote)?;
        let digest = docker.push(&remote)?;
        docker.rmi(&remote)?;
        docker.rmi(&local)?;
        docker.run_failing(&["image", "inspect", &id])?;

        let out = docker.pull(&remote, &[])?;
        ensure!(out.stdout.contains(&digest), "pull did not report the pushed digest {digest}:\n{}", out.combined());
        let pulled = docker.inspect(&remote, "{{.Id}}")?;
        ensure!(pulled == id, "pulled image id {pulled} != built {id}");
        let repo_digests = docker.inspect(&remote, "{{json .RepoDigests}}")?;
        let by_digest = format!("{}/docker/scratch@{digest}", berth.host);
        ensure!(repo_digests.contains(&by_digest), "RepoDigests {repo_digests} lacks {by_digest}");

        docker.pull(&by_digest, &[])?;
        ensure!(docker.inspect(&by_digest, "{{.Id}}")? == id, "pull by digest gave another image");
        Ok(())
    })
}

#[test]
fn push_to_a_second_repository_mounts_the_layer() {
    with_berth(BERTH, |berth| {
        let docker = Docker::new()?;
        docker.login(&berth.host, ADMIN_USER, ADMIN_PASSWORD)?;
        berth.create_project("docker", false)?;
        let local = format!("library/mount-{}:1", port(berth));
        docker_scratch_image(&docker, &local)?;
        let first = format!("{}/docker/first:1", berth.host);
        let second = format!("{}/docker/second:1", berth.host);
        docker.tag(&local, &first)?;
        docker.tag(&local, &second)?;
        let digest = docker.push(&first)?;

        // The engine knows the layer is in docker/first and asks for a
        // cross-repository mount; only a 201 makes it print "Mounted from".
        let out = docker.run(&["push", &second])?;
        ensure!(out.stdout.contains("Mounted from docker/first"), "layer was not mounted:\n{}", out.combined());
        ensure!(out.stdout.contains(&digest), "second push gave another digest than {digest}:\n{}", out.combined());
        Ok(())
    })
}

#[test]
fn pulls_one_platform_of_an_oci_index() {
    with_berth(BERTH, |berth| {
        let (docker, skopeo) = (Docker::new()?, Skopeo::new()?);
        docker.login(&berth.host, ADMIN_USER, ADMIN_PASSWORD)?;
        skopeo.login(&berth.host, ADMIN_USER, ADMIN_PASSWORD)?;
        berth.create_project("docker", false)?;
        let layout = OciLayout::new()?;
        let multi = layout.add_multi_arch("multi", &[4096])?;
        skopeo.copy(&layout.reference("multi"), &docker_ref(&berth.host, "docker/multi:1"), &["--all"])?;

        let remote = format!("{}/docker/multi:1", berth.host);
        let arm64 = &multi.images[1];
        docker.pull(&remote, &["--platform", "linux/arm64"])?;
        let id = docker.inspect(&remote, "{{.Id}}")?;
        ensure!(id == arm64.config.digest, "pulled id {id} is not the arm64 config {}", arm64.config.digest);
        let arch = docker.inspect(&remote, "{{.Architecture}}")?;
        ensure!(arch == "arm64", "pulled architecture {arch}");
        Ok(())
    })
}

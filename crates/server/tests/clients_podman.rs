//! podman against a real berth: push, remove locally, pull back, and find
//! the same image (same id, same layers) again.

use anyhow::ensure;
use berth_testkit::clients::{docker_ref, with_berth, Podman, Skopeo};
use berth_testkit::fixtures::{sha256_digest, OciLayout};
use berth_testkit::{ADMIN_PASSWORD, ADMIN_USER};

const BERTH: &str = env!("CARGO_BIN_EXE_berth");

#[test]
fn imported_image_pushes_and_pulls_back() {
    with_berth(BERTH, |berth| {
        let (podman, skopeo) = (Podman::new()?, Skopeo::new()?);
        podman.login(&berth.host, ADMIN_USER, ADMIN_PASSWORD)?;
        skopeo.login(&berth.host, ADMIN_USER, ADMIN_PASSWORD)?;
        berth.create_project("podman", false)?;
        // A layer fixture is a gzip tar: exactly what `podman import` takes.
        let layout = OciLayout::new()?;
        let rootfs = layout.add_image("rootfs", &[64 << 10])?;
        let tarball = layout.blob_path(&rootfs.layers[0].digest);
        podman.run(&["import", &tarball.to_string_lossy(), "localhost/imported:1"])?;
        let id = podman.inspect("localhost/imported:1", "{{.Id}}")?;

        let remote = format!("{}/podman/imported:1", berth.host);
        let pushed = podman.push("localhost/imported:1", &remote)?;
        let served = skopeo.raw_manifest(&docker_ref(&berth.host, "podman/imported:1"))?;
        ensure!(sha256_digest(&served) == pushed, "registry serves a manifest other than the {pushed} podman pushed");

        podman.run(&["rmi", "localhost/imported:1"])?;
        podman.run_failing(&["image", "exists", &id])?;
        podman.pull(&remote, &[])?;
        let pulled_id = podman.inspect(&remote, "{{.Id}}")?;
        ensure!(pulled_id == id, "pulled image id {pulled_id} != imported {id}");
        let digest = podman.inspect(&remote, "{{.Digest}}")?;
        ensure!(digest == pushed, "pulled digest {digest} != pushed {pushed}");
        Ok(())
    })
}

#[test]
fn image_from_oci_layout_pushes_and_pulls_back_with_same_layers() {
    with_berth(BERTH, |berth| {
        let podman = Podman::new()?;
        podman.login(&berth.host, ADMIN_USER, ADMIN_PASSWORD)?;
        berth.create_project("podman", false)?;
        let layout = OciLayout::new()?;
        let image = layout.add_image("app", &[10 << 10, 300 << 10])?;
        // podman pull prints the id of what it pulled as its last line.
        let pulled = podman.pull(&layout.reference("app"), &[])?;
        let local = pulled.stdout.lines().last().unwrap_or_default().trim().to_string();
        ensure!(
            format!("sha256:{local}") == image.config.digest,
            "podman id {local} is not config {}",
            image.config.digest
        );

        let remote = format!("{}/podman/app:v1", berth.host);
        podman.push(&local, &remote)?;
        podman.run(&["rmi", "--force", &local])?;
        podman.run_failing(&["image", "exists", &local])?;
        podman.pull(&remote, &[])?;
        let id = podman.inspect(&remote, "{{.Id}}")?;
        ensure!(format!("sha256:{id}") == image.config.digest, "pulled id {id} is not config {}", image.config.digest);
        let layers = podman.inspect(&remote, "{{range .RootFS.Layers}}{{.}} {{end}}")?;
        let layers: Vec<&str> = layers.split_whitespace().collect();
        ensure!(layers == image.diff_ids, "pulled layers {layers:?} != pushed diff_ids {:?}", image.diff_ids);
        Ok(())
    })
}

#[test]
fn pulls_each_platform_of_a_multi_arch_index() {
    with_berth(BERTH, |berth| {
        let (podman, skopeo) = (Podman::new()?, Skopeo::new()?);
        podman.login(&berth.host, ADMIN_USER, ADMIN_PASSWORD)?;
        skopeo.login(&berth.host, ADMIN_USER, ADMIN_PASSWORD)?;
        berth.create_project("podman", false)?;
        let layout = OciLayout::new()?;
        let multi = layout.add_multi_arch("multi", &[4096])?;
        skopeo.copy(&layout.reference("multi"), &docker_ref(&berth.host, "podman/multi:1"), &["--all"])?;

        let remote = format!("{}/podman/multi:1", berth.host);
        for image in &multi.images {
            let arch = image.platform.architecture;
            podman.pull(&remote, &["--os", image.platform.os, "--arch", arch])?;
            let id = podman.inspect(&remote, "{{.Id}}")?;
            ensure!(
                format!("sha256:{id}") == image.config.digest,
                "{arch}: pulled id {id} is not config {}",
                image.config.digest
            );
            let digest = podman.inspect(&remote, "{{.Digest}}")?;
            ensure!(
                digest == multi.index.digest,
                "{arch}: pulled by digest {digest}, expected index {}",
                multi.index.digest
            );
        }
        Ok(())
    })
}

//! skopeo against a real berth: images go in from an OCI layout, come back
//! out into a fresh one, and must be identical to the byte.

use anyhow::{ensure, Context, Result};
use berth_testkit::clients::{docker_ref, with_berth, Skopeo};
use berth_testkit::fixtures::{sha256_digest, Image, OciLayout};
use berth_testkit::Berth;
use berth_testkit::{ADMIN_PASSWORD, ADMIN_USER};

const BERTH: &str = env!("CARGO_BIN_EXE_berth");

/// Pushes `tag` of `src` to `repo:tag`, then checks the registry serves the
/// manifest byte-identical (by tag and by digest).
fn push(skopeo: &Skopeo, berth: &Berth, src: &OciLayout, image: &Image, repo: &str, tag: &str) -> Result<()> {
    let dest = docker_ref(&berth.host, &format!("{repo}:{tag}"));
    skopeo.copy(&src.reference(tag), &dest, &[])?;
    let by_digest = docker_ref(&berth.host, &format!("{repo}@{}", image.manifest.digest));
    let local = std::fs::read(src.blob_path(&image.manifest.digest))?;
    for reference in [&dest, &by_digest] {
        let served = skopeo.raw_manifest(reference)?;
        ensure!(served == local, "{reference} served a different manifest:\n{}", String::from_utf8_lossy(&served));
    }
    Ok(())
}

/// Pulls `repo:tag` into a fresh layout and checks the manifest digest and
/// every blob against `src`.
fn pull_and_compare(
    skopeo: &Skopeo,
    berth: &Berth,
    src: &OciLayout,
    image: &Image,
    repo: &str,
    tag: &str,
) -> Result<()> {
    let out = OciLayout::new()?;
    skopeo.copy(&docker_ref(&berth.host, &format!("{repo}:{tag}")), &out.reference(tag), &[])?;
    let pulled = out.tagged(tag)?;
    ensure!(
        pulled.digest == image.manifest.digest,
        "pulled manifest {} != pushed {}",
        pulled.digest,
        image.manifest.digest
    );
    for blob in image.blobs() {
        src.check_same_blob(&out, blob)?;
    }
    Ok(())
}

#[test]
fn push_then_pull_back_is_byte_identical() {
    with_berth(BERTH, |berth| {
        let skopeo = Skopeo::new()?;
        skopeo.login(&berth.host, ADMIN_USER, ADMIN_PASSWORD)?;
        let src = OciLayout::new()?;
        let image = src.add_image("v1", &[1024, 256 << 10, 3 << 20])?;
        push(&skopeo, berth, &src, &image, "library/alpha", "v1")?;
        pull_and_compare(&skopeo, berth, &src, &image, "library/alpha", "v1")
    })
}

#[test]
fn list_tags_shows_every_pushed_tag() {
    with_berth(BERTH, |berth| {
        let skopeo = Skopeo::new()?;
        skopeo.login(&berth.host, ADMIN_USER, ADMIN_PASSWORD)?;
        let src = OciLayout::new()?;
        for tag in ["1.0", "1.1", "latest"] {
            let image = src.add_image(tag, &[512])?;
            push(&skopeo, berth, &src, &image, "library/tags", tag)?;
        }
        let out = skopeo.run(&["list-tags", "--tls-verify=false", &docker_ref(&berth.host, "library/tags")])?;
        let listed: serde_json::Value = serde_json::from_str(&out.stdout).context("list-tags output is not JSON")?;
        let mut tags: Vec<&str> =
            listed["Tags"].as_array().context("no Tags")?.iter().filter_map(|t| t.as_str()).collect();
        tags.sort_unstable();
        ensure!(tags == ["1.0", "1.1", "latest"], "list-tags gave {listed}");
        Ok(())
    })
}

#[test]
fn multi_arch_index_pushes_with_all_and_pulls_per_platform() {
    with_berth(BERTH, |berth| {
        let skopeo = Skopeo::new()?;
        skopeo.login(&berth.host, ADMIN_USER, ADMIN_PASSWORD)?;
        let src = OciLayout::new()?;
        let multi = src.add_multi_arch("multi", &[2048, 64 << 10])?;
        let dest = docker_ref(&berth.host, "library/multi:multi");
        skopeo.copy(&src.reference("multi"), &dest, &["--all"])?;

        let served = skopeo.raw_manifest(&dest)?;
        ensure!(sha256_digest(&served) == multi.index.digest, "index served by tag has another digest");

        for image in &multi.images {
            let (os, arch) = (image.platform.os, image.platform.architecture);
            let out = OciLayout::new()?;
            let for_platform = skopeo.with_global(&["--override-os", os, "--override-arch", arch]);
            for_platform.copy(&dest, &out.reference(arch), &[])?;
            let pulled = out.tagged(arch)?;
            ensure!(
                pulled.digest == image.manifest.digest,
                "{os}/{arch}: pulled {} != pushed {}",
                pulled.digest,
                image.manifest.digest
            );
            for blob in image.blobs() {
                src.check_same_blob(&out, blob)?;
            }
        }

        let all = OciLayout::new()?;
        skopeo.copy(&dest, &all.reference("multi"), &["--all"])?;
        ensure!(all.tagged("multi")?.digest == multi.index.digest, "index pulled with --all has another digest");
        Ok(())
    })
}

#[test]
fn one_gib_layer_round_trips() {
    with_berth(BERTH, |berth| {
        let skopeo = Skopeo::new()?;
        skopeo.login(&berth.host, ADMIN_USER, ADMIN_PASSWORD)?;
        let src = OciLayout::new()?;
        let image = src.add_image("big", &[1 << 30])?;
        push(&skopeo, berth, &src, &image, "library/big-layer", "big")?;
        pull_and_compare(&skopeo, berth, &src, &image, "library/big-layer", "big")
    })
}

#[test]
fn two_hundred_small_layers_round_trip() {
    with_berth(BERTH, |berth| {
        let skopeo = Skopeo::new()?;
        skopeo.login(&berth.host, ADMIN_USER, ADMIN_PASSWORD)?;
        let src = OciLayout::new()?;
        let sizes: Vec<u64> = (0..200).map(|i| 100 + i * 7).collect();
        let image = src.add_image("many", &sizes)?;
        push(&skopeo, berth, &src, &image, "library/many-layers", "many")?;
        pull_and_compare(&skopeo, berth, &src, &image, "library/many-layers", "many")
    })
}

#[test]
fn pushing_to_a_second_repository_mounts_the_layers() {
    with_berth(BERTH, |berth| {
        let skopeo = Skopeo::new()?;
        skopeo.login(&berth.host, ADMIN_USER, ADMIN_PASSWORD)?;
        let src = OciLayout::new()?;
        let image = src.add_image("shared", &[4096, 8192])?;
        push(&skopeo, berth, &src, &image, "library/first", "shared")?;

        // skopeo remembers where it pushed each layer; pushing them to another
        // repository of the same registry must be answered by a mount (201).
        let dest = docker_ref(&berth.host, "library/second:shared");
        let out = skopeo.with_global(&["--debug"]).copy(&src.reference("shared"), &dest, &[])?;
        let log = out.stderr;
        for layer in &image.layers {
            let hex = layer.digest.trim_start_matches("sha256:");
            ensure!(
                log.lines()
                    .any(|l| l.contains("Trying to mount") && l.contains("from=library%2Ffirst") && l.contains(hex)),
                "skopeo never tried to mount {} from first/repo:\n{log}",
                layer.digest
            );
        }
        // Layers are copied concurrently, so their log lines interleave: count
        // the answers instead of pairing them with requests.
        let mounted = log.lines().filter(|l| l.contains("... mount OK")).count();
        ensure!(
            mounted == image.layers.len(),
            "{mounted} of {} mounts were answered 201 Created (skopeo logs \"started an upload instead\" for 202 \
             and \"Error mounting\" for errors):\n{log}",
            image.layers.len()
        );
        pull_and_compare(&skopeo, berth, &src, &image, "library/second", "shared")
    })
}

#[test]
fn deleted_manifest_is_not_found_by_digest_or_tag() {
    with_berth(BERTH, |berth| {
        let skopeo = Skopeo::new()?;
        skopeo.login(&berth.host, ADMIN_USER, ADMIN_PASSWORD)?;
        let src = OciLayout::new()?;
        let image = src.add_image("doomed", &[1024])?;
        push(&skopeo, berth, &src, &image, "library/trash", "doomed")?;

        let by_digest = docker_ref(&berth.host, &format!("library/trash@{}", image.manifest.digest));
        skopeo.delete(&by_digest)?;

        let by_tag = docker_ref(&berth.host, "library/trash:doomed");
        for reference in [&by_digest, &by_tag] {
            let out = OciLayout::new()?;
            let failed = skopeo.run_failing(&["copy", "--src-tls-verify=false", reference, &out.reference("x")])?;
            ensure!(
                failed.stderr.to_lowercase().contains("manifest unknown"),
                "pulling {reference} after delete should fail with MANIFEST_UNKNOWN, got:\n{}",
                failed.combined()
            );
        }
        Ok(())
    })
}

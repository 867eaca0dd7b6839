//! Image fixtures: OCI image layouts on disk (`oci:DIR:tag` for skopeo and
//! podman) and tiny images in the local Docker Engine.
//!
//! Layers are real tar files of random, incompressible bytes, gzip-wrapped
//! at level 0 (stored deflate blocks: valid gzip, twice as fast as level 1,
//! and random data would not shrink anyway). A layer is streamed to disk while both the tar stream
//! (its diff_id) and the gzip output (its digest) are hashed, so no layer is
//! ever held in memory.

use std::fs::{self, File};
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use flate2::{write::GzEncoder, Compression};
use rand::{rngs::StdRng, RngCore, SeedableRng};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};

use crate::clients::Docker;

/// OCI image manifest media type.
pub const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// OCI image index media type.
pub const INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// OCI image config media type.
pub const CONFIG: &str = "application/vnd.oci.image.config.v1+json";
/// Gzip-compressed tar layer media type.
pub const LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
const REF_NAME: &str = "org.opencontainers.image.ref.name";

/// An image's operating system and CPU architecture.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Platform {
    pub os: &'static str,
    pub architecture: &'static str,
}

/// `linux/amd64`.
pub const LINUX_AMD64: Platform = Platform { os: "linux", architecture: "amd64" };
/// `linux/arm64`.
pub const LINUX_ARM64: Platform = Platform { os: "linux", architecture: "arm64" };

/// A content descriptor: what a manifest or index says about a blob.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    pub media_type: String,
    pub digest: String,
    pub size: u64,
}

/// One single-platform image written to a layout.
#[derive(Clone, Debug)]
pub struct Image {
    pub platform: Platform,
    pub manifest: Descriptor,
    pub config: Descriptor,
    pub layers: Vec<Descriptor>,
    /// sha256 of each uncompressed layer tar, as in the config's rootfs.
    pub diff_ids: Vec<String>,
}

impl Image {
    /// The config and the layers: every blob the manifest references.
    pub fn blobs(&self) -> impl Iterator<Item = &Descriptor> {
        std::iter::once(&self.config).chain(&self.layers)
    }
}

/// A multi-platform image: an OCI index over one image per platform.
#[derive(Clone, Debug)]
pub struct MultiArch {
    pub index: Descriptor,
    pub images: Vec<Image>,
}

/// `sha256:<hex>` of `bytes`.
pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// An OCI image layout in its own temporary directory, removed on drop.
/// Empty layouts are also good destinations for `skopeo copy … oci:DIR:tag`.
pub struct OciLayout {
    dir: tempfile::TempDir,
}

impl OciLayout {
    /// An empty layout (oci-layout file, empty index.json).
    ///
    /// The directory name is all lowercase: `podman pull oci:DIR:tag` names
    /// the image after DIR and rejects upper-case repository names.
    pub fn new() -> Result<OciLayout> {
        let name = format!("berth-oci-{:016x}", StdRng::from_entropy().next_u64());
        let dir = tempfile::Builder::new().prefix(&name).rand_bytes(0).tempdir()?;
        fs::create_dir_all(dir.path().join("blobs/sha256"))?;
        fs::write(dir.path().join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#)?;
        let layout = OciLayout { dir };
        layout.write_index(&json!({ "schemaVersion": 2, "mediaType": INDEX, "manifests": [] }))?;
        Ok(layout)
    }

    /// The layout's directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `oci:DIR:tag`, the name skopeo and podman use for a tag in this layout.
    pub fn reference(&self, tag: &str) -> String {
        format!("oci:{}:{tag}", self.path().display())
    }

    /// Where the blob `digest` lives (whether or not it exists).
    pub fn blob_path(&self, digest: &str) -> PathBuf {
        self.path().join("blobs").join(digest.replacen(':', "/", 1))
    }

    /// Writes the layout as a tar archive at `dest`, the form `ctr images
    /// import` and `docker load` take. Entries are named `./index.json`,
    /// `./blobs/...` as GNU tar names them when archiving a directory.
    /// `dest` must lie outside the layout.
    pub fn write_tar(&self, dest: &Path) -> Result<()> {
        let mut tar = tar::Builder::new(BufWriter::new(File::create(dest)?));
        tar.follow_symlinks(false);
        tar.append_dir_all(".", self.path())?;
        tar.into_inner()?.into_inner().map_err(|e| e.into_error())?;
        Ok(())
    }

    /// Writes a linux/amd64 image with one random layer per entry of
    /// `layer_sizes` (payload bytes) and tags it `tag`.
    pub fn add_image(&self, tag: &str, layer_sizes: &[u64]) -> Result<Image> {
        let image = self.write_image(LINUX_AMD64, layer_sizes)?;
        self.tag(tag, &image.manifest)?;
        Ok(image)
    }

    /// Writes a linux/amd64 + linux/arm64 index, each image with its own
    /// random layers of `layer_sizes`, and tags the index `tag`.
    pub fn add_multi_arch(&self, tag: &str, layer_sizes: &[u64]) -> Result<MultiArch> {
        let images = [LINUX_AMD64, LINUX_ARM64]
            .into_iter()
            .map(|p| self.write_image(p, layer_sizes))
            .collect::<Result<Vec<_>>>()?;
        let manifests: Vec<Value> = images
            .iter()
            .map(|i| {
                let mut d = serde_json::to_value(&i.manifest).expect("descriptor serializes");
                d["platform"] = json!({ "os": i.platform.os, "architecture": i.platform.architecture });
                d
            })
            .collect();
        let index =
            self.write_json(INDEX, &json!({ "schemaVersion": 2, "mediaType": INDEX, "manifests": manifests }))?;
        self.tag(tag, &index)?;
        Ok(MultiArch { index, images })
    }

    /// The descriptor index.json holds for `tag` (e.g. after a `skopeo copy`
    /// into this layout).
    pub fn tagged(&self, tag: &str) -> Result<Descriptor> {
        let index = self.read_index()?;
        let entry = index["manifests"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|m| m["annotations"][REF_NAME] == tag)
            .with_context(|| format!("no tag {tag} in {}/index.json: {index}", self.path().display()))?;
        Ok(serde_json::from_value(entry.clone())?)
    }

    /// Fails unless the blob `desc` exists here and in `other` with identical
    /// bytes of the described size.
    pub fn check_same_blob(&self, other: &OciLayout, desc: &Descriptor) -> Result<()> {
        let (a, b) = (self.blob_path(&desc.digest), other.blob_path(&desc.digest));
        for p in [&a, &b] {
            let len =
                fs::metadata(p).with_context(|| format!("blob {} missing at {}", desc.digest, p.display()))?.len();
            if len != desc.size {
                bail!("blob {} at {} has {len} bytes, expected {}", desc.digest, p.display(), desc.size);
            }
        }
        if !files_equal(&a, &b)? {
            bail!("blob {} differs between {} and {}", desc.digest, a.display(), b.display());
        }
        Ok(())
    }

    fn write_image(&self, platform: Platform, layer_sizes: &[u64]) -> Result<Image> {
        let (layers, diff_ids): (Vec<_>, Vec<_>) =
            layer_sizes.iter().map(|&size| self.write_layer(size)).collect::<Result<Vec<_>>>()?.into_iter().unzip();
        let config = self.write_json(
            CONFIG,
            &json!({
                "architecture": platform.architecture,
                "os": platform.os,
                "config": {},
                "rootfs": { "type": "layers", "diff_ids": diff_ids },
            }),
        )?;
        let manifest = self.write_json(
            MANIFEST,
            &json!({ "schemaVersion": 2, "mediaType": MANIFEST, "config": config, "layers": layers }),
        )?;
        Ok(Image { platform, manifest, config, layers, diff_ids })
    }

    /// Streams one layer: random payload → tar → hash (diff_id) → gzip →
    /// hash (digest) → temporary file, renamed to its digest at the end.
    fn write_layer(&self, payload: u64) -> Result<(Descriptor, String)> {
        let tmp = tempfile::NamedTempFile::new_in(self.path())?;
        let file = BufWriter::with_capacity(1 << 20, tmp.reopen()?);
        let gzip = GzEncoder::new(HashingWriter::new(file), Compression::none());
        let mut tar = tar::Builder::new(HashingWriter::new(gzip));
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Regular);
        header.set_size(payload);
        header.set_mode(0o644);
        header.set_mtime(0);
        tar.append_data(&mut header, "payload.bin", RandomBytes::new(payload))?;
        let (gzip, diff_id, _) = tar.into_inner()?.finish();
        let (file, digest, size) = gzip.finish()?.finish();
        file.into_inner().map_err(|e| e.into_error())?;
        tmp.persist(self.blob_path(&digest))?;
        Ok((Descriptor { media_type: LAYER_GZIP.into(), digest, size }, diff_id))
    }

    fn write_json(&self, media_type: &str, value: &Value) -> Result<Descriptor> {
        let bytes = serde_json::to_vec(value)?;
        let digest = sha256_digest(&bytes);
        fs::write(self.blob_path(&digest), &bytes)?;
        Ok(Descriptor { media_type: media_type.into(), digest, size: bytes.len() as u64 })
    }

    /// Points `tag` at `desc` in index.json, replacing an older entry.
    fn tag(&self, tag: &str, desc: &Descriptor) -> Result<()> {
        let mut index = self.read_index()?;
        let manifests = index["manifests"].as_array_mut().context("index.json without manifests")?;
        manifests.retain(|m| m["annotations"][REF_NAME] != tag);
        let mut entry = serde_json::to_value(desc)?;
        entry["annotations"] = json!({ REF_NAME: tag });
        manifests.push(entry);
        self.write_index(&index)
    }

    fn read_index(&self) -> Result<Value> {
        Ok(serde_json::from_slice(&fs::read(self.path().join("index.json"))?)?)
    }

    fn write_index(&self, index: &Value) -> Result<()> {
        Ok(fs::write(self.path().join("index.json"), serde_json::to_vec(index)?)?)
    }
}

/// Whether two files have the same bytes, compared a chunk at a time.
pub fn files_equal(a: &Path, b: &Path) -> Result<bool> {
    let (mut fa, mut fb) = (File::open(a)?, File::open(b)?);
    if fa.metadata()?.len() != fb.metadata()?.len() {
        return Ok(false);
    }
    let (mut ba, mut bb) = (vec![0u8; 1 << 20], vec![0u8; 1 << 20]);
    loop {
        let n = read_full(&mut fa, &mut ba)?;
        if n != read_full(&mut fb, &mut bb)? || ba[..n] != bb[..n] {
            return Ok(false);
        }
        if n == 0 {
            return Ok(true);
        }
    }
}

fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// Builds a one-layer `FROM scratch` image holding a random file, tagged
/// `tag`, in the local Docker Engine without pulling anything; returns its
/// image id. The tag is removed when `docker` drops.
pub fn docker_scratch_image(docker: &Docker, tag: &str) -> Result<String> {
    let context = tempfile::Builder::new().prefix("berth-docker-").tempdir()?;
    let mut payload = vec![0u8; 4096];
    StdRng::from_entropy().fill_bytes(&mut payload);
    fs::write(context.path().join("payload.bin"), payload)?;
    fs::write(context.path().join("Dockerfile"), "FROM scratch\nCOPY payload.bin /payload.bin\n")?;
    docker.track(tag);
    docker.run(&["build", "-q", "-t", tag, &context.path().to_string_lossy()])?;
    docker.inspect(tag, "{{.Id}}")
}

/// A writer that hashes and counts what passes through it.
struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    len: u64,
}

impl<W: Write> HashingWriter<W> {
    fn new(inner: W) -> Self {
        HashingWriter { inner, hasher: Sha256::new(), len: 0 }
    }

    /// The inner writer, the `sha256:` digest and the byte count.
    fn finish(self) -> (W, String, u64) {
        (self.inner, format!("sha256:{}", hex::encode(self.hasher.finalize())), self.len)
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// `remaining` random bytes from a generator seeded from the OS, so every
/// layer is unique and incompressible. (ChaCha: its block function is fast
/// even when this crate is built without optimizations.)
struct RandomBytes {
    rng: StdRng,
    remaining: u64,
}

impl RandomBytes {
    fn new(len: u64) -> Self {
        RandomBytes { rng: StdRng::from_entropy(), remaining: len }
    }
}

impl Read for RandomBytes {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf.len().min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
        self.rng.fill_bytes(&mut buf[..n]);
        self.remaining -= n as u64;
        Ok(n)
    }
}

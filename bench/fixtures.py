#!/usr/bin/env python3
"""Writes the benchmark fixtures: OCI image layouts and raw blobs.

All data is random (incompressible), so every run uploads fresh content and
no registry can shortcut an upload by finding the blob already stored.
Layers are gzip streams made of stored (level 0) deflate blocks: valid gzip
that costs almost nothing to produce, and that skopeo passes through as is.

Usage:
  fixtures.py image DIR --layer-bytes N          one layer of N random bytes
  fixtures.py layers DIR --count N               N small layers (16-64 KiB)
  fixtures.py blob FILE --bytes N                a raw random blob
Each command prints a JSON summary on stdout.
"""

import argparse
import gzip
import hashlib
import io
import json
import os
import random
import sys
import tarfile

CHUNK = 4 << 20
LAYER_MT = "application/vnd.oci.image.layer.v1.tar+gzip"
CONFIG_MT = "application/vnd.oci.image.config.v1+json"
MANIFEST_MT = "application/vnd.oci.image.manifest.v1+json"


class RandomReader(io.RawIOBase):
    """A file-like object yielding exactly `size` random bytes."""

    def __init__(self, size):
        self.left = size

    def readable(self):
        return True

    def read(self, n=-1):
        if self.left <= 0:
            return b""
        if n is None or n < 0 or n > self.left:
            n = self.left
        n = min(n, CHUNK)
        self.left -= n
        return os.urandom(n)


class HashingWriter(io.RawIOBase):
    """Passes writes through to `inner` (if any) while hashing them."""

    def __init__(self, inner=None):
        self.inner = inner
        self.sha = hashlib.sha256()
        self.size = 0

    def writable(self):
        return True

    def write(self, b):
        self.sha.update(b)
        self.size += len(b)
        if self.inner is not None:
            self.inner.write(b)
        return len(b)


def blob_path(layout, digest):
    return os.path.join(layout, "blobs", "sha256", digest.split(":", 1)[1])


def write_layer(layout, payload_bytes, name="data.bin"):
    """Writes a tar+gzip layer with one random file; returns (descriptor, diff_id)."""
    tmp = os.path.join(layout, "blobs", "sha256", ".tmp-layer")
    with open(tmp, "wb") as raw:
        gz_hash = HashingWriter(raw)
        with gzip.GzipFile(fileobj=gz_hash, mode="wb", compresslevel=0, mtime=0) as gz:
            tar_hash = HashingWriter(gz)
            with tarfile.open(fileobj=tar_hash, mode="w|", format=tarfile.PAX_FORMAT) as tar:
                info = tarfile.TarInfo(name)
                info.size = payload_bytes
                info.mode = 0o644
                info.mtime = 0
                tar.addfile(info, RandomReader(payload_bytes))
    digest = "sha256:" + gz_hash.sha.hexdigest()
    os.replace(tmp, blob_path(layout, digest))
    desc = {"mediaType": LAYER_MT, "digest": digest, "size": gz_hash.size}
    return desc, "sha256:" + tar_hash.sha.hexdigest()


def write_json_blob(layout, obj, media_type):
    data = json.dumps(obj, separators=(",", ":")).encode()
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    with open(blob_path(layout, digest), "wb") as f:
        f.write(data)
    return {"mediaType": media_type, "digest": digest, "size": len(data)}


def write_image(layout, layer_sizes, tag):
    os.makedirs(os.path.join(layout, "blobs", "sha256"), exist_ok=True)
    layers, diff_ids = [], []
    for i, size in enumerate(layer_sizes):
        desc, diff_id = write_layer(layout, size, name=f"layer-{i:04d}.bin")
        layers.append(desc)
        diff_ids.append(diff_id)
    config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }
    config_desc = write_json_blob(layout, config, CONFIG_MT)
    manifest = {
        "schemaVersion": 2,
        "mediaType": MANIFEST_MT,
        "config": config_desc,
        "layers": layers,
    }
    manifest_desc = write_json_blob(layout, manifest, MANIFEST_MT)
    manifest_desc["annotations"] = {"org.opencontainers.image.ref.name": tag}
    index = {"schemaVersion": 2, "manifests": [manifest_desc]}
    with open(os.path.join(layout, "index.json"), "w") as f:
        json.dump(index, f)
    with open(os.path.join(layout, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    return {
        "layout": layout,
        "tag": tag,
        "manifest_digest": manifest_desc["digest"],
        "layers": len(layers),
        "layer_bytes": sum(d["size"] for d in layers),
        "total_bytes": sum(d["size"] for d in layers) + config_desc["size"] + manifest_desc["size"],
    }


def write_blob(path, size):
    with open(path, "wb") as raw:
        h = HashingWriter(raw)
        left = size
        while left > 0:
            n = min(left, CHUNK)
            h.write(os.urandom(n))
            left -= n
    return {"path": path, "digest": "sha256:" + h.sha.hexdigest(), "size": size}


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("image")
    a.add_argument("dir")
    a.add_argument("--layer-bytes", type=int, required=True)
    a.add_argument("--tag", default="1")
    b = sub.add_parser("layers")
    b.add_argument("dir")
    b.add_argument("--count", type=int, required=True)
    b.add_argument("--tag", default="1")
    c = sub.add_parser("blob")
    c.add_argument("file")
    c.add_argument("--bytes", type=int, required=True)
    args = p.parse_args()

    if args.cmd == "image":
        out = write_image(args.dir, [args.layer_bytes], args.tag)
    elif args.cmd == "layers":
        rng = random.Random()
        sizes = [rng.randint(16 << 10, 64 << 10) for _ in range(args.count)]
        out = write_image(args.dir, sizes, args.tag)
    else:
        out = write_blob(args.file, args.bytes)
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()

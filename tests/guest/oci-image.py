# SPDX-License-Identifier: GPL-2.0
"""oci-image.py ROOTFS ARCHIVE NAME: writes an OCI image archive (the
layout `ctr images import` takes) of one layer holding ROOTFS, named NAME.
For guest tests, run with the host's python3 (chroot /host)."""
import gzip
import hashlib
import io
import json
import sys
import tarfile

rootfs, archive, name = sys.argv[1:4]
blobs = {}


def put(data):
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    blobs[digest] = data
    return {"digest": digest, "size": len(data)}


raw = io.BytesIO()
with tarfile.open(fileobj=raw, mode="w") as t:
    t.add(rootfs, arcname=".")
diff_id = "sha256:" + hashlib.sha256(raw.getvalue()).hexdigest()
layer = put(gzip.compress(raw.getvalue(), mtime=0))
config = put(json.dumps({
    "architecture": "amd64", "os": "linux", "config": {"Cmd": ["sh"]},
    "rootfs": {"type": "layers", "diff_ids": [diff_id]},
}).encode())
manifest = put(json.dumps({
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": dict(config, mediaType="application/vnd.oci.image.config.v1+json"),
    "layers": [dict(layer, mediaType="application/vnd.oci.image.layer.v1.tar+gzip")],
}).encode())
index = {"schemaVersion": 2, "manifests": [dict(
    manifest, mediaType="application/vnd.oci.image.manifest.v1+json",
    annotations={"org.opencontainers.image.ref.name": name, "io.containerd.image.name": name})]}


def add(t, path, data):
    info = tarfile.TarInfo(path)
    info.size = len(data)
    t.addfile(info, io.BytesIO(data))


with tarfile.open(archive, "w") as t:
    add(t, "oci-layout", b'{"imageLayoutVersion": "1.0.0"}')
    add(t, "index.json", json.dumps(index).encode())
    for digest, data in blobs.items():
        add(t, "blobs/sha256/" + digest.split(":")[1], data)

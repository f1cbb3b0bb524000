"""Build a tiny OCI image layout on disk, by hand, without network access.

The result is usable as ``oci:DIR:TAG`` by skopeo. Everything is deterministic:
the same ``label`` always yields the same digests, different labels yield
different layers and therefore different manifest digests.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from pathlib import Path

__all__ = ["build_oci_layout", "layout_manifest_digest"]

MEDIA_TYPE_INDEX = "application/vnd.oci.image.index.v1+json"
MEDIA_TYPE_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MEDIA_TYPE_CONFIG = "application/vnd.oci.image.config.v1+json"
MEDIA_TYPE_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
REF_NAME_ANNOTATION = "org.opencontainers.image.ref.name"
_EPOCH = 0


def _json_bytes(value: dict) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def _write_blob(directory: Path, data: bytes) -> dict:
    """Store ``data`` under blobs/sha256/ and return ``{"digest", "size"}``."""
    hexdigest = hashlib.sha256(data).hexdigest()
    blob_dir = directory / "blobs" / "sha256"
    blob_dir.mkdir(parents=True, exist_ok=True)
    (blob_dir / hexdigest).write_bytes(data)
    return {"digest": f"sha256:{hexdigest}", "size": len(data)}


def _layer_tar(label: str, padding: bytes = b"") -> bytes:
    """An uncompressed tar with /hello.txt holding ``label`` (fixed metadata), and
    /padding.bin holding ``padding`` if any."""
    files = {"hello.txt": f"hello from the iam-portal test image: {label}\n".encode()}
    if padding:
        files["padding.bin"] = padding
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            info.mode = 0o644
            info.mtime = _EPOCH
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def build_oci_layout(
    directory: Path, *, tag: str = "latest", label: str = "hello", padding: bytes = b""
) -> Path:
    """Write (or extend) an OCI image layout at ``directory``; return ``directory``.

    The image has one gzip tar layer containing ``hello.txt`` whose text
    includes ``label``, an image config (``rootfs.diff_ids`` = sha256 of the
    uncompressed tar), an image manifest, ``oci-layout`` and ``index.json`` whose
    manifest entry carries the ``org.opencontainers.image.ref.name`` annotation
    ``tag``. ``padding`` (e.g. random bytes, for a layer of a realistic size) goes into the
    layer as ``padding.bin``. Calling it again on the same directory with another ``tag`` adds
    that tag (an entry with the same tag is replaced).

    Use with skopeo as ``oci:<directory>:<tag>``.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)

    tar_bytes = _layer_tar(label, padding)
    diff_id = f"sha256:{hashlib.sha256(tar_bytes).hexdigest()}"
    layer = _write_blob(directory, gzip.compress(tar_bytes, mtime=_EPOCH))

    config = {
        "architecture": "amd64",
        "os": "linux",
        "created": "1970-01-01T00:00:00Z",
        "config": {"Cmd": ["/hello.txt"], "Labels": {"org.example.label": label}},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created": "1970-01-01T00:00:00Z", "created_by": f"build_oci_layout {label}"}],
    }
    config_descriptor = _write_blob(directory, _json_bytes(config))

    manifest = {
        "schemaVersion": 2,
        "mediaType": MEDIA_TYPE_MANIFEST,
        "config": {"mediaType": MEDIA_TYPE_CONFIG, **config_descriptor},
        "layers": [{"mediaType": MEDIA_TYPE_LAYER, **layer}],
    }
    manifest_descriptor = _write_blob(directory, _json_bytes(manifest))

    index_path = directory / "index.json"
    if index_path.exists():
        index = json.loads(index_path.read_text())
    else:
        index = {"schemaVersion": 2, "mediaType": MEDIA_TYPE_INDEX, "manifests": []}
    index["manifests"] = [
        entry
        for entry in index.get("manifests", [])
        if entry.get("annotations", {}).get(REF_NAME_ANNOTATION) != tag
    ]
    index["manifests"].append(
        {
            "mediaType": MEDIA_TYPE_MANIFEST,
            **manifest_descriptor,
            "annotations": {REF_NAME_ANNOTATION: tag},
        }
    )
    index_path.write_bytes(_json_bytes(index))
    (directory / "oci-layout").write_bytes(_json_bytes({"imageLayoutVersion": "1.0.0"}))
    return directory


def layout_manifest_digest(directory: Path, tag: str = "latest") -> str:
    """Return the manifest digest (``sha256:...``) tagged ``tag`` in the layout.

    Compare it with ``skopeo inspect``'s ``Digest`` after a push. Raises KeyError
    if the tag is not in ``index.json``.
    """
    index = json.loads((Path(directory) / "index.json").read_text())
    for entry in index.get("manifests", []):
        if entry.get("annotations", {}).get(REF_NAME_ANNOTATION) == tag:
            return entry["digest"]
    raise KeyError(f"tag {tag!r} not found in {directory}/index.json")

"""Reading and writing the pieces of an OCI image layout directory.

Shared by the oci/ tools: content digests, canonical JSON, and the lookup of the one
image manifest an `oci_image` layout holds (index.json -> manifest -> config), or the
image index an `oci_image_index` layout holds.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any, BinaryIO

CHUNK = 1 << 20
INDEX_MEDIA_TYPE = "application/vnd.oci.image.index.v1+json"
MANIFEST_MEDIA_TYPE = "application/vnd.oci.image.manifest.v1+json"
CONFIG_MEDIA_TYPE = "application/vnd.oci.image.config.v1+json"
LAYER_GZIP_MEDIA_TYPE = "application/vnd.oci.image.layer.v1.tar+gzip"
REF_NAME = "org.opencontainers.image.ref.name"


class LayoutError(Exception):
    """An image layout is missing, malformed or holds something these tools do not handle."""


def canonical_json(value: Any) -> bytes:
    """Returns VALUE as compact JSON with sorted keys: the same value, the same bytes."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sha256_stream(stream: BinaryIO) -> tuple[str, int]:
    """Returns ("sha256:HEX", size) of everything left in STREAM."""
    digest = hashlib.sha256()
    size = 0
    while chunk := stream.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
    return "sha256:" + digest.hexdigest(), size


def blob_path(layout: Path, digest: str) -> Path:
    """Returns where the blob DIGEST lives in LAYOUT (only sha256 is supported)."""
    algorithm, _, hex_digest = digest.partition(":")
    if algorithm != "sha256" or len(hex_digest) != 64:
        raise LayoutError(f"unsupported digest {digest!r}")
    return layout / "blobs" / "sha256" / hex_digest


def read_json_blob(layout: Path, digest: str) -> Any:
    """Parses the JSON blob DIGEST of LAYOUT."""
    path = blob_path(layout, digest)
    try:
        return json.loads(path.read_bytes())
    except FileNotFoundError:
        raise LayoutError(f"{layout}: blob {digest} is missing") from None
    except ValueError as error:
        raise LayoutError(f"{layout}: blob {digest} is not JSON: {error}") from None


def top_descriptor(layout: Path) -> dict[str, Any]:
    """Returns the single descriptor LAYOUT/index.json lists: an image manifest or an image index."""
    try:
        index = json.loads((layout / "index.json").read_bytes())
    except FileNotFoundError:
        raise LayoutError(f"{layout} is not an OCI image layout (no index.json)") from None
    except ValueError as error:
        raise LayoutError(f"{layout}/index.json is not JSON: {error}") from None
    manifests = index.get("manifests") or []
    if len(manifests) != 1:
        raise LayoutError(f"{layout}/index.json lists {len(manifests)} manifests; expected exactly 1")
    return manifests[0]


def manifest_descriptor(layout: Path) -> dict[str, Any]:
    """Returns the descriptor of the single image manifest listed in LAYOUT/index.json."""
    descriptor = top_descriptor(layout)
    if descriptor.get("mediaType", MANIFEST_MEDIA_TYPE) != MANIFEST_MEDIA_TYPE:
        raise LayoutError(f"{layout}: {descriptor.get('mediaType')} is not an image manifest")
    return descriptor


def read_image(layout: Path) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Returns (manifest descriptor, manifest, config) of the single image in LAYOUT."""
    descriptor = manifest_descriptor(layout)
    manifest = read_json_blob(layout, descriptor["digest"])
    config = read_json_blob(layout, manifest["config"]["digest"])
    return descriptor, manifest, config


def write_blob(layout: Path, data: bytes, media_type: str) -> dict[str, Any]:
    """Stores DATA as a blob of LAYOUT and returns its descriptor."""
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    path = blob_path(layout, digest)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return {"mediaType": media_type, "digest": digest, "size": len(data)}


def copy_blob(source: Path, target: Path, digest: str) -> None:
    """Copies blob DIGEST from layout SOURCE into layout TARGET (a no-op if present)."""
    destination = blob_path(target, digest)
    if destination.exists():
        return
    destination.parent.mkdir(parents=True, exist_ok=True)
    try:
        shutil.copyfile(blob_path(source, digest), destination)
    except FileNotFoundError:
        raise LayoutError(f"{source}: blob {digest} is missing") from None
    os.chmod(destination, 0o644)

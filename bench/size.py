"""Size of an image's layers and total, uncompressed and compressed, from its OCI layout."""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from pathlib import Path
from typing import Dict, List, Optional

from common import write_json

CHUNK = 1 << 20


def blob(layout: Path, digest: str) -> Path:
    """Path of the blob DIGEST (sha256:...) in LAYOUT."""
    algorithm, hexdigest = digest.split(":", 1)
    return layout / "blobs" / algorithm / hexdigest


def uncompressed_size(path: Path, media_type: str) -> int:
    """Bytes of the layer tar at PATH once decompressed."""
    if not media_type.endswith("+gzip"):
        return path.stat().st_size
    total = 0
    with gzip.open(path, "rb") as stream:
        while chunk := stream.read(CHUNK):
            total += len(chunk)
    return total


def measure(layout: Path) -> Dict[str, object]:
    """Every layer's digest, media type, compressed and uncompressed size; totals; manifest digest."""
    index = json.loads((layout / "index.json").read_text())
    manifest_digest = index["manifests"][0]["digest"]
    manifest = json.loads(blob(layout, manifest_digest).read_text())
    layers: List[Dict[str, object]] = []
    for layer in manifest["layers"]:
        path = blob(layout, layer["digest"])
        size = uncompressed_size(path, layer["mediaType"])
        layers.append(
            {
                "digest": layer["digest"],
                "media_type": layer["mediaType"],
                "compressed": layer["size"] if layer["mediaType"].endswith("+gzip") else None,
                "uncompressed": size,
            }
        )
    compressed = [layer["compressed"] for layer in layers]
    return {
        "manifest": manifest_digest,
        "config": manifest["config"]["digest"],
        "layers": layers,
        "total_uncompressed": sum(layer["uncompressed"] for layer in layers),  # type: ignore[misc]
        "total_compressed": sum(compressed) if None not in compressed else None,  # type: ignore[arg-type]
        "blobs_on_disk": sum(p.stat().st_size for p in (layout / "blobs").rglob("*") if p.is_file()),
    }


def main(argv: Optional[List[str]] = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("layouts", nargs="+", metavar="NAME=DIR", help="OCI layout directories, each with a name")
    parser.add_argument("--out", required=True, help="JSON file to write")
    args = parser.parse_args(argv)
    result = {}
    for item in args.layouts:
        name, _, directory = item.partition("=")
        if not directory or not (Path(directory) / "index.json").is_file():
            parser.error("%r is not NAME=DIR of an OCI layout" % item)
        result[name] = measure(Path(directory))
    write_json(args.out, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())

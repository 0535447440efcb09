"""Size of an image's layers and total, uncompressed and compressed, from its OCI layout, and
where the uncompressed bytes go: every file counted once, in the first of PARTS it matches.
"""

from __future__ import annotations

import argparse
import fnmatch
import gzip
import json
import sys
import tarfile
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from common import write_json

CHUNK = 1 << 20
LIBS = "usr/lib/x86_64-linux-gnu/"
# (part, glob): fnmatch globs on the path in the image, "*" crossing "/"; the first match wins.
# Shared libraries are counted one by one (LIBS), apart from these parts.
PARTS = [
    ("Python interpreter (usr/bin/python3.X)", "usr/bin/python3*"),
    ("stdlib bytecode (.pyc)", "usr/lib/python3.*/*.pyc"),
    ("stdlib extension modules (lib-dynload)", "usr/lib/python3.*/lib-dynload/*"),
    ("stdlib sources (.py)", "usr/lib/python3.*/*.py"),
    ("stdlib other files", "usr/lib/python3.*/*"),
    ("third-party bytecode (.pyc)", "usr/lib/python3/dist-packages/*.pyc"),
    ("third-party compiled extensions (.so)", "usr/lib/python3/dist-packages/*.so"),
    ("third-party sources and data", "usr/lib/python3/dist-packages/*"),
    ("the app", "app/*"),
    ("OpenSSL's legacy provider", LIBS + "ossl-modules/*"),
    ("time zones (usr/share/zoneinfo)", "usr/share/zoneinfo/*"),
    ("C.UTF-8 locale", "usr/lib/locale/*"),
    ("CA certificates (bundle and sources)", "etc/ssl/*"),
    ("CA certificates (bundle and sources)", "usr/share/ca-certificates/*"),
    ("licences and copyright files", "usr/share/common-licenses/*"),
    ("licences and copyright files", "usr/share/doc/*"),
    ("dpkg status files (for scanners)", "var/lib/dpkg/*"),
]


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


def part_of(path: str) -> str:
    """The part a file of the image belongs to (see PARTS); a shared library is its own part."""
    for part, glob in PARTS:
        if fnmatch.fnmatchcase(path, glob):
            return part
    if path.startswith(LIBS) and ".so" in path:
        return "library " + path[len(LIBS) :].split(".so", 1)[0] + ".so"
    return "other files"


def parts(layers: List[Tuple[Path, int]]) -> Dict[str, int]:
    """Bytes per part over the (layer blob, uncompressed size) pairs, largest first; the tar
    format's own bytes (headers, padding, end blocks) are one part."""
    sizes: Dict[str, int] = {}
    overhead = "tar headers, padding and end blocks"
    for path, uncompressed in layers:
        files = 0
        with tarfile.open(path) as tar:
            for member in tar:
                if member.isfile():
                    files += member.size
                    part = part_of(member.name.lstrip("./"))
                    sizes[part] = sizes.get(part, 0) + member.size
        sizes[overhead] = sizes.get(overhead, 0) + uncompressed - files
    return dict(sorted(sizes.items(), key=lambda item: (-item[1], item[0])))


def measure(layout: Path) -> Dict[str, object]:
    """Every layer's label (its history entry), digest, media type, compressed and uncompressed
    size; totals; manifest digest; bytes per part."""
    index = json.loads((layout / "index.json").read_text())
    manifest_digest = index["manifests"][0]["digest"]
    manifest = json.loads(blob(layout, manifest_digest).read_text())
    config = json.loads(blob(layout, manifest["config"]["digest"]).read_text())
    history = [h.get("created_by", "") for h in config.get("history", []) if not h.get("empty_layer")]
    labels = history if len(history) == len(manifest["layers"]) else [""] * len(manifest["layers"])
    layers: List[Dict[str, object]] = []
    blobs: List[Tuple[Path, int]] = []
    for layer, label in zip(manifest["layers"], labels):
        path = blob(layout, layer["digest"])
        size = uncompressed_size(path, layer["mediaType"])
        blobs.append((path, size))
        layers.append(
            {
                "label": label,
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
        "parts": parts(blobs),
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

"""Writes a `docker load` tarball (docker-archive format) of an OCI image layout.

The archive holds manifest.json, the config blob and each layer as an uncompressed tar,
all named by digest, with fixed owners, modes and mtime 0: the same image and tags
always give the same bytes.
"""

from __future__ import annotations

import argparse
import gzip
import io
import sys
import tarfile
import tempfile
import zlib
from pathlib import Path
from typing import BinaryIO

import layout


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Parses the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("--image", required=True, type=Path, help="OCI image layout directory")
    parser.add_argument("--repo-tags-file", type=Path, help="REPOSITORY:TAG lines to record in manifest.json")
    parser.add_argument("--output", required=True, type=Path, help="tarball to write")
    return parser.parse_args(argv)


def add_member(archive: tarfile.TarFile, name: str, stream: BinaryIO, size: int) -> None:
    """Adds SIZE bytes of STREAM to ARCHIVE as regular file NAME with fixed metadata."""
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = 0o644
    info.mtime = 0
    archive.addfile(info, stream)


def uncompressed_layer(image: Path, descriptor: dict, scratch: Path) -> Path:
    """Returns a path to the uncompressed tar of layer DESCRIPTOR (decompressing into SCRATCH)."""
    source = layout.blob_path(image, descriptor["digest"])
    media_type = descriptor["mediaType"]
    if media_type.endswith(".tar"):
        return source
    if not media_type.endswith("+gzip"):
        raise layout.LayoutError(f"unsupported layer media type {media_type}")
    target = scratch / "layer.tar"
    with gzip.open(source, "rb") as compressed, open(target, "wb") as plain:
        while chunk := compressed.read(layout.CHUNK):
            plain.write(chunk)
    return target


def write(image: Path, repo_tags: list[str], output: Path) -> None:
    """Writes the docker-archive of IMAGE, tagged REPO_TAGS, to OUTPUT."""
    _, manifest, config = layout.read_image(image)
    config_digest = manifest["config"]["digest"]
    config_name = f"blobs/sha256/{config_digest.partition(':')[2]}"
    diff_ids = config["rootfs"]["diff_ids"]
    if len(diff_ids) != len(manifest["layers"]):
        raise layout.LayoutError(f"{image}: {len(manifest['layers'])} layers but {len(diff_ids)} diff_ids")
    layer_names = [f"blobs/sha256/{diff_id.partition(':')[2]}" for diff_id in diff_ids]
    entry = {"Config": config_name, "RepoTags": repo_tags, "Layers": layer_names}
    with tarfile.open(output, "w", format=tarfile.USTAR_FORMAT) as archive, tempfile.TemporaryDirectory() as scratch:
        config_bytes = layout.blob_path(image, config_digest).read_bytes()
        add_member(archive, config_name, io.BytesIO(config_bytes), len(config_bytes))
        written: set[str] = set()
        for name, descriptor in zip(layer_names, manifest["layers"]):
            if name in written:
                continue
            written.add(name)
            path = uncompressed_layer(image, descriptor, Path(scratch))
            with open(path, "rb") as stream:
                add_member(archive, name, stream, path.stat().st_size)
        manifest_json = layout.canonical_json([entry])
        add_member(archive, "manifest.json", io.BytesIO(manifest_json), len(manifest_json))


def read_repo_tags(path: Path | None) -> list[str]:
    """Returns the REPOSITORY:TAG lines of PATH, stripped (none when PATH is None)."""
    if path is None:
        return []
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    for line in lines:
        if ":" not in line.rpartition("/")[2]:
            raise ValueError(f"{path}: {line!r} is not REPOSITORY:TAG")
    return lines


def main(argv: list[str]) -> int:
    """Entry point: writes the tarball, reporting bad input in one line."""
    args = parse_args(argv)
    try:
        write(args.image, read_repo_tags(args.repo_tags_file), args.output)
    except (OSError, EOFError, zlib.error, ValueError, layout.LayoutError) as error:
        print(f"write_tarball: {error}", file=sys.stderr)
        return 1
    except KeyError as error:
        print(f"write_tarball: the image's manifest or config lacks {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Write a layer tar from a manifest of files.

The manifest is JSON: {"files": [[PATH_IN_IMAGE, PATH_ON_DISK], ...]}. Every file
becomes a regular entry at PATH_IN_IMAGE (absolute), with each parent directory as an
entry of its own; owner 0:0, mtime 0, mode 0644 for files and 0755 for directories,
sorted by name (debian/tools/tarout.py). Every *.dist-info directory must carry its RECORD and METADATA.

--filter FILE leaves out the files matching its "drop" globs (fnmatch, "*" crosses "/",
matched against the path in the image), each given with its reason.
"""

import argparse
import fnmatch
import json
import posixpath
import sys
from pathlib import Path
from typing import AbstractSet, Dict, List

import tarout


class ManifestError(Exception):
    """A manifest that cannot make a valid layer; its message is one line."""


def read_manifest(path: Path) -> Dict[str, str]:
    """Return {name in the tar: file on disk} from a manifest, rejecting duplicates."""
    try:
        pairs = json.loads(path.read_text(encoding="utf-8"))["files"]
    except (ValueError, KeyError, TypeError) as error:
        raise ManifestError(f"{path}: not a layer manifest ({error})") from None
    files: Dict[str, str] = {}
    for image_path, disk_path in pairs:
        if not image_path.startswith("/") or posixpath.normpath(image_path) != image_path:
            raise ManifestError(f"{image_path}: not a normalised absolute path")
        name = image_path[1:]
        if name in files:
            raise ManifestError(f"{image_path}: comes from both {files[name]} and {disk_path}")
        files[name] = disk_path
    return files


def read_filter(path: Path) -> List[str]:
    """Return the "drop" globs of a filter file, each of which must come with a reason."""
    try:
        drop = json.loads(path.read_text(encoding="utf-8"))["drop"]
    except (ValueError, KeyError, TypeError) as error:
        raise ManifestError(f"{path}: not a filter file ({error})") from None
    for glob, reason in drop.items():
        if not glob.startswith("*") or not str(reason).strip():
            raise ManifestError(f"{path}: {glob!r} must start with * and come with a reason")
    return sorted(drop)


def apply_filter(files: Dict[str, str], globs: List[str]) -> Dict[str, str]:
    """Return files without those whose image path matches one of globs."""
    return {n: d for n, d in files.items() if not any(fnmatch.fnmatchcase("/" + n, g) for g in globs)}


def check_dist_info(names: AbstractSet[str]) -> None:
    """Fail if a *.dist-info directory lacks its RECORD or METADATA."""
    dist_infos = {posixpath.dirname(n) for n in names if posixpath.dirname(n).endswith(".dist-info")}
    for directory in sorted(dist_infos):
        for required in ("METADATA", "RECORD"):
            if posixpath.join(directory, required) not in names:
                raise ManifestError(
                    f"/{directory} has no {required}: add the package's dist_info target to the layer"
                )


def build_entries(files: Dict[str, str]) -> Dict[str, tarout.Entry]:
    """Return the entries for files and all their parent directories."""
    entries = {name: tarout.Entry(tarout.FILE, 0o644, data=Path(disk).read_bytes()) for name, disk in files.items()}
    tarout.add_parents(entries)
    return entries


def main() -> int:
    """Parse the command line and write the layer."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("manifest", type=Path, help="JSON manifest of the layer's files")
    parser.add_argument("out", type=Path, help="output layer tar")
    parser.add_argument("--filter", type=Path, help="JSON file of globs to drop, with reasons")
    args = parser.parse_args()
    try:
        files = read_manifest(args.manifest)
        if args.filter:
            files = apply_filter(files, read_filter(args.filter))
        check_dist_info(files.keys())
        entries = build_entries(files)
        with open(args.out, "wb") as stream:
            tarout.write_tar(entries, stream)
    except (ManifestError, OSError, ValueError) as error:
        print(f"layer_tar: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

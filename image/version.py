"""Reads the workload's version from app/app/__init__.py and writes image labels and tags.

The version is read without importing the app (ast), must be semantic versioning
(semver.org 2.0.0), and becomes the label org.opencontainers.image.version and the
image tag. An image tag cannot hold '+', so build metadata is kept with '+' mapped
to '_' (1.2.3+build.7 is tagged 1.2.3_build.7; the label keeps the '+').
Under --stamp, the workspace status file adds .revision and .source labels.
"""

import argparse
import ast
import re
import sys
from pathlib import Path
from typing import Dict, List, Optional

SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)


class VersionError(Exception):
    """The version is missing or malformed; the message is one line."""


def read_version(init_py: Path) -> str:
    """Returns the string assigned to __version__ in init_py, without importing it."""
    tree = ast.parse(init_py.read_text(), str(init_py))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__version__" for t in node.targets):
            if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                return node.value.value
            raise VersionError("%s: __version__ must be a string literal" % init_py)
    raise VersionError("%s: no __version__ = \"X.Y.Z\" assignment" % init_py)


def image_tag(version: str) -> str:
    """Maps a semantic version to an image tag ('+' is not allowed in tags)."""
    if not SEMVER.match(version):
        raise VersionError("__version__ %r is not semantic versioning (MAJOR.MINOR.PATCH[-PRE][+BUILD], e.g. 1.0.0)" % version)
    return version.replace("+", "_")


def read_status(paths: List[Path]) -> Dict[str, str]:
    """Parses Bazel workspace status files (KEY VALUE lines)."""
    status = {}
    for path in paths:
        for line in path.read_text().splitlines():
            key, _, value = line.partition(" ")
            status[key] = value
    return status


def main(argv: Optional[List[str]] = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("init_py", type=Path, help="the package's __init__.py")
    parser.add_argument("--title", required=True, help="value of org.opencontainers.image.title")
    parser.add_argument("--labels", type=Path, required=True, help="labels file to write (key=value lines)")
    parser.add_argument("--tags", type=Path, required=True, help="tags file to write (one tag a line)")
    parser.add_argument("--repo-tags", type=Path, required=True, help="file to write: REPOSITORY:TAG lines, for loading")
    parser.add_argument("--repository", required=True, help="local image name the repo tags use")
    parser.add_argument("--latest", action="store_true", help="also tag 'latest'")
    parser.add_argument("--status", type=Path, action="append", default=[], help="workspace status file (under --stamp)")
    args = parser.parse_args(argv)
    try:
        version = read_version(args.init_py)
        tag = image_tag(version)
    except (VersionError, OSError, SyntaxError) as error:
        print("version: %s" % error, file=sys.stderr)
        return 1
    labels = {"org.opencontainers.image.version": version, "org.opencontainers.image.title": args.title}
    status = read_status(args.status)
    for key, label in (("STABLE_GIT_COMMIT", "revision"), ("STABLE_GIT_REMOTE", "source")):
        if status.get(key):
            labels["org.opencontainers.image." + label] = status[key]
    args.labels.write_text("".join("%s=%s\n" % item for item in sorted(labels.items())))
    tags = [tag] + (["latest"] if args.latest else [])
    args.tags.write_text("".join(t + "\n" for t in tags))
    args.repo_tags.write_text("".join("%s:%s\n" % (args.repository, t) for t in tags))
    return 0


if __name__ == "__main__":
    sys.exit(main())

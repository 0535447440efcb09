"""Loads a docker-archive tarball into the local container engine.

podman when it is installed (`podman load`), else docker when a daemon is reachable
($DOCKER_HOST or /var/run/docker.sock); the engine's own output is shown.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

DOCKER_SOCKET = Path("/var/run/docker.sock")


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Parses the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("--tarball", required=True, type=Path, help="docker-archive tarball to load")
    return parser.parse_args(argv)


def loader() -> list[str]:
    """Returns the load command of the available engine, or raises OSError naming what is missing."""
    podman = shutil.which("podman")
    if podman:
        return [podman, "load", "--input"]
    docker = shutil.which("docker")
    if docker and (os.environ.get("DOCKER_HOST") or DOCKER_SOCKET.exists()):
        return [docker, "load", "--input"]
    raise OSError("no container engine: install podman, or docker with a running daemon")


def main(argv: list[str]) -> int:
    """Entry point: loads the tarball, reporting failure in one line."""
    args = parse_args(argv)
    try:
        if not args.tarball.is_file():
            raise OSError(f"{args.tarball} does not exist")
        result = subprocess.run([*loader(), str(args.tarball)], check=False, stderr=subprocess.PIPE, text=True)
    except OSError as error:
        print(f"oci_load: {error}", file=sys.stderr)
        return 1
    if result.returncode != 0:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        print(f"oci_load: {lines[-1] if lines else 'loading failed'}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

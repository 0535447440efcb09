"""Pushes an OCI image layout to a registry with skopeo, then prints REPOSITORY@DIGEST.

The layout holds one image (oci_image) or one image index (oci_image_index: its images
go up first, and DIGEST is the index's). It goes up by digest first, then each tag is applied; any failure stops with one
line on stderr and exit status 1. Credentials come from $REGISTRY_AUTH_FILE, else
~/.docker/config.json when present. TLS is verified, except for a registry on a loopback
address (127.0.0.0/8, ::1, localhost) given without --cert-dir.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import re
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import layout

SKOPEO = "skopeo"
CONNECT_TIMEOUT = 5.0
COMMAND_TIMEOUT = "10m"
DOCKER_HUB = ("docker.io", "index.docker.io")
FATAL_MESSAGE = re.compile(r'level=fatal msg="(.*)"\s*$')


class PushError(Exception):
    """A push failed; the message is the one line to show."""


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Parses the command line (the rule's defaults come first, the user's flags after)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("--image", required=True, type=Path, help="OCI image layout directory (an image or an image index)")
    parser.add_argument("-r", "--repository", help="REGISTRY/NAME to push to; the last one given wins")
    parser.add_argument("--repository-file", type=Path, help="file holding the repository (used without -r)")
    parser.add_argument("--tags-file", type=Path, help="tags to apply, one per line")
    parser.add_argument("-t", "--tag", action="append", default=[], help="a further tag to apply (repeatable)")
    parser.add_argument("--digest-file", type=Path, help="also write REPOSITORY@DIGEST to this file")
    parser.add_argument("--cert-dir", type=Path, help="directory of *.crt CA certificates to verify the registry with")
    return parser.parse_args(argv)


def read_lines(path: Path) -> list[str]:
    """Returns the non-blank, stripped lines of PATH."""
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def user_path(path: Path) -> Path:
    """Resolves PATH against the directory `bazel run` was called from (else the current one)."""
    return Path(os.environ.get("BUILD_WORKING_DIRECTORY", ".")) / path


def registry_address(repository: str) -> tuple[str, int | None]:
    """Returns (host, port or None) of the registry named by REPOSITORY."""
    first, slash, _ = repository.partition("/")
    if not slash or not ("." in first or ":" in first or first == "localhost"):
        return "registry-1.docker.io", 443
    if first in DOCKER_HUB:
        return "registry-1.docker.io", 443
    if first.startswith("["):
        host, _, rest = first[1:].partition("]")
        port = rest.removeprefix(":")
    else:
        host, _, port = first.rpartition(":") if first.count(":") == 1 else (first, "", "")
    if port and not port.isdigit():
        raise PushError(f"invalid registry port in {repository!r}")
    return host, int(port) if port else None


def is_loopback(host: str) -> bool:
    """Tells whether HOST names a loopback address."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_reachable(host: str, port: int) -> None:
    """Fails fast, in one line, when nothing accepts TCP connections at HOST:PORT."""
    try:
        socket.create_connection((host, port), timeout=CONNECT_TIMEOUT).close()
    except OSError as error:
        reason = error.strerror or str(error) or type(error).__name__
        raise PushError(f"cannot reach registry {host}:{port}: {reason}") from None


def auth_file() -> str | None:
    """Returns the credentials file to use: $REGISTRY_AUTH_FILE, else ~/.docker/config.json if present."""
    configured = os.environ.get("REGISTRY_AUTH_FILE")
    if configured:
        return configured
    docker = Path.home() / ".docker" / "config.json"
    return str(docker) if docker.is_file() else None


def skopeo_error(stderr: str) -> str:
    """Condenses skopeo's stderr into one readable line."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    last = lines[-1] if lines else "skopeo failed without a message"
    match = FATAL_MESSAGE.search(last)
    message = match.group(1).replace('\\"', '"') if match else last
    lowered = message.lower()
    if "unauthorized" in lowered or "authentication required" in lowered or "invalid username/password" in lowered:
        reason = message.rpartition(": ")[2]
        return f"the registry rejected the credentials (check $REGISTRY_AUTH_FILE or `podman login`): {reason}"
    return message


def skopeo_copy(flags: list[str], source: str, destination: str) -> None:
    """Runs `skopeo copy` with FLAGS, raising PushError with one line on failure."""
    command = [SKOPEO, "--command-timeout", COMMAND_TIMEOUT, "copy", "--retry-times", "0", "--quiet", *flags]
    try:
        result = subprocess.run([*command, source, destination], capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise PushError("skopeo is not installed (it is needed to push)") from None
    if result.returncode != 0:
        raise PushError(f"pushing {destination.removeprefix('docker://')} failed: {skopeo_error(result.stderr)}")


def push(args: argparse.Namespace) -> str:
    """Pushes the image as ARGS say and returns REPOSITORY@DIGEST."""
    repository = args.repository
    if not repository and args.repository_file:
        repository = next(iter(read_lines(args.repository_file)), None)
    if not repository:
        raise PushError("no repository: set `repository` on the rule or pass --repository")
    if "@" in repository or ":" in repository.rpartition("/")[2]:
        raise PushError(f"repository {repository!r} must not carry a tag or digest; use --tag")
    tags = (read_lines(args.tags_file) if args.tags_file else []) + args.tag
    top = layout.top_descriptor(args.image)
    digest = top["digest"]
    host, port = registry_address(repository)
    flags = ["--preserve-digests"]
    if top.get("mediaType") == layout.INDEX_MEDIA_TYPE:
        flags.append("--all")  # an oci_image_index: every image it lists, then the index
    if args.cert_dir:
        flags += ["--dest-cert-dir", str(user_path(args.cert_dir))]
    elif is_loopback(host):
        flags.append("--dest-tls-verify=false")
    credentials = auth_file()
    if credentials:
        flags += ["--authfile", credentials]
    if port is not None or not is_loopback(host):
        check_reachable(host, port or 443)
    with tempfile.TemporaryDirectory() as scratch:
        digest_file = Path(scratch) / "digest"
        source = f"oci:{args.image}"
        skopeo_copy([*flags, "--digestfile", str(digest_file)], source, f"docker://{repository}@{digest}")
        pushed = digest_file.read_text(encoding="utf-8").strip()
    if pushed != digest:
        raise PushError(f"the registry stored digest {pushed}, expected {digest}")
    for tag in tags:
        skopeo_copy(flags, source, f"docker://{repository}:{tag}")
    return f"{repository}@{digest}"


def main(argv: list[str]) -> int:
    """Entry point: pushes, prints REPOSITORY@DIGEST, reports failure in one line."""
    args = parse_args(argv)
    try:
        reference = push(args)
        if args.digest_file:
            user_path(args.digest_file).write_text(reference + "\n", encoding="utf-8")
    except (PushError, OSError, layout.LayoutError) as error:
        print(f"oci_push: {error}", file=sys.stderr)
        return 1
    print(reference)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Pushes an OCI image layout to a registry with skopeo, then prints REPOSITORY@DIGEST.

The layout holds one image (oci_image) or one image index (oci_image_index: its images
go up first, and DIGEST is the index's). It goes up by digest first; with --sign-key (or
$COSIGN_KEY) the rule's signers (cosign_sign, cosign_attest) run next; then each tag is
applied. Any failure stops with one line on stderr and exit status 1. Credentials come
from $REGISTRY_AUTH_FILE, else ~/.docker/config.json when present. TLS is verified,
except for a registry on a loopback address (127.0.0.0/8, ::1, localhost) given without
--cert-dir.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import layout
from registry import (RegistryError, auth_file, check_repository, is_loopback, key_reference, read_lines,
                      registry_address, user_path)

SKOPEO = "skopeo"
CONNECT_TIMEOUT = 5.0
COMMAND_TIMEOUT = "10m"
FATAL_MESSAGE = re.compile(r'level=fatal msg="(.*)"\s*$')
SIGN_KEY_ENV = "COSIGN_KEY"
SIGN_TIMEOUT = 600


class PushError(RegistryError):
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
    parser.add_argument("--sign-key", default=os.environ.get(SIGN_KEY_ENV) or None, metavar="KEY",
                        help=f"run the rule's signers with this cosign key (a file, env://VAR or a KMS URI) "
                             f"before the tags are applied (default: ${SIGN_KEY_ENV})")
    parser.add_argument("--signer", action="append", default=[], type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--runfiles", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def check_reachable(host: str, port: int) -> None:
    """Fails fast, in one line, when nothing accepts TCP connections at HOST:PORT."""
    try:
        socket.create_connection((host, port), timeout=CONNECT_TIMEOUT).close()
    except OSError as error:
        reason = error.strerror or str(error) or type(error).__name__
        raise PushError(f"cannot reach registry {host}:{port}: {reason}") from None


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


def sign(args: argparse.Namespace, repository: str, key: str) -> None:
    """Runs each signer executable for REPOSITORY with KEY; the first failure stops."""
    if not args.signer:
        raise PushError(f"a signing key was given (--sign-key or ${SIGN_KEY_ENV}), but this push has no signers")
    env = {**os.environ, "RUNFILES_DIR": str(args.runfiles)}
    if args.cert_dir:
        env["SSL_CERT_DIR"] = f"{user_path(args.cert_dir)}:/etc/ssl/certs"
    for signer in args.signer:
        result = subprocess.run([str(signer), "--repository", repository, "--key", key], env=env,
                                stdout=sys.stderr, timeout=SIGN_TIMEOUT, check=False)
        if result.returncode != 0:
            raise PushError(f"{signer.name} failed (exit {result.returncode}); the tags were not applied")


def push(args: argparse.Namespace) -> str:
    """Pushes the image as ARGS say, signs it if asked, tags it; returns REPOSITORY@DIGEST."""
    repository = args.repository
    if not repository and args.repository_file:
        repository = next(iter(read_lines(args.repository_file)), None)
    repository = check_repository(repository)
    tags = (read_lines(args.tags_file) if args.tags_file else []) + args.tag
    key = key_reference(args.sign_key) if args.sign_key else None  # a missing key fails before any push
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
    if key:
        sign(args, repository, key)  # before the tags: a tag never names an unsigned image
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
    except (RegistryError, OSError, layout.LayoutError, subprocess.TimeoutExpired) as error:
        print(f"oci_push: {error}", file=sys.stderr)
        return 1
    print(reference)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

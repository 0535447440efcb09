#!/usr/bin/env python3
"""Pushes the image index (an image per architecture) and writes the Deployment and Service that run its digest.

Reads the version from app/app/__init__.py (image/version.py), pushes the image with
`./bazelw run //:push -- --repository R --digest-file F` (tagged with that version), then
writes the manifests of deploy/render.py for R@sha256:... Apply the result with
`kubectl apply -f FILE`.

With --sign-key KEY the push also signs the images and attaches their SBOMs and
provenance (cosign), and the output gains the admission policy (deploy/signatures.py: a
Kyverno ClusterPolicy) that admits the repository's images only when signed by the
matching public key (--public-key, default KEY with .pub for .key); --podman-policy DIR
writes the same rule for podman: DIR/policy.json and DIR/registries.d/.

    deploy/release.py --repository registry.example/team/workload --output release.yaml \
        [--sign-key cosign.key] [--podman-policy DIR]
"""

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import List, Optional

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "deploy"), str(ROOT / "image"), str(ROOT / "runtime")]

import render  # noqa: E402  (deploy/render.py, found through the line above)
import signatures  # noqa: E402  (deploy/signatures.py)
import version  # noqa: E402  (image/version.py)

PUSH_TIMEOUT = 1800


class ReleaseError(Exception):
    """A step failed; the message is one line."""


def push(command: List[str], repository: str, workspace: Path) -> str:
    """Runs the push COMMAND for REPOSITORY; returns the REPOSITORY@sha256:... it wrote.

    The digest file lives in WORKSPACE: ./bazelw runs the push inside its build root,
    where the checkout (and not this machine's /tmp) is mounted at the same path.
    """
    with tempfile.TemporaryDirectory(prefix=".release-", dir=workspace) as scratch:
        digest_file = Path(scratch) / "digest"
        try:
            result = subprocess.run([*command, "--repository", repository, "--digest-file", str(digest_file)],
                                    stdout=sys.stderr, timeout=PUSH_TIMEOUT, check=False)
        except OSError as error:
            raise ReleaseError(f"cannot run {command[0]}: {error.strerror}") from None
        if result.returncode != 0 or not digest_file.exists():
            raise ReleaseError(f"push to {repository} failed (exit {result.returncode})")
        reference = digest_file.read_text().strip()
    if not render.DIGEST_REFERENCE.match(reference) or not reference.startswith(repository + "@"):
        raise ReleaseError(f"push wrote {reference!r}, not {repository}@sha256:<digest>")
    return reference


def public_key(args: argparse.Namespace) -> str:
    """The PEM public key matching --sign-key: --public-key, else the key file's .pub twin."""
    path = args.public_key
    if path is None:
        key = Path(args.sign_key)
        if "://" in args.sign_key or key.suffix != ".key":
            raise ReleaseError("--sign-key is not a .key file: give --public-key for the policies")
        path = key.with_suffix(".pub")
    try:
        text = Path(path).read_text()
    except OSError as error:
        raise ReleaseError(f"cannot read the public key {path}: {error.strerror}") from None
    if "-----BEGIN PUBLIC KEY-----" not in text:
        raise ReleaseError(f"{path} is not a PEM public key")
    return text


def write_podman_policy(directory: Path, repository: str, key: str) -> None:
    """Writes DIRECTORY/policy.json and DIRECTORY/registries.d/NAME.yaml for REPOSITORY."""
    (directory / "registries.d").mkdir(parents=True, exist_ok=True)
    policy = signatures.podman_policy(repository, key)
    (directory / "policy.json").write_text(json.dumps(policy, indent=2, sort_keys=True) + "\n")
    (directory / "registries.d" / f"{render.NAME}.yaml").write_text(signatures.registries_d(repository))


def release(args: argparse.Namespace) -> str:
    """Pushes (and signs), then writes the manifests and policies; returns the pushed reference."""
    try:
        tag = version.image_tag(version.read_version(args.workspace / "app" / "app" / "__init__.py"))
    except (OSError, SyntaxError, version.VersionError) as error:
        raise ReleaseError(f"cannot read the version: {error}") from None
    if args.podman_policy and not args.sign_key:
        raise ReleaseError("--podman-policy needs --sign-key: the policy asks for its signatures")
    key = public_key(args) if args.sign_key else None  # read first: a bad key pushes nothing
    command = args.push or [str(args.workspace / "bazelw"), "run", "//:push", "--"]
    if args.sign_key:
        command = [*command, "--sign-key", str(Path(args.sign_key).absolute()) if "://" not in args.sign_key
                   else args.sign_key]
    print(f"release: pushing {args.repository}:{tag}", file=sys.stderr)
    reference = push(command, args.repository, args.workspace)
    documents = render.manifests(reference)
    if key:
        documents.append(signatures.cluster_policy(args.repository, key))
    text = render.dump(documents)
    if args.output == "-":
        sys.stdout.write(text)
    else:
        Path(args.output).write_text(text)
    if args.podman_policy:
        write_podman_policy(Path(args.podman_policy), args.repository, key)
    print(f"release: {args.repository}:{tag} is {reference}" + (" (signed)" if key else ""), file=sys.stderr)
    return reference


def main(argv: Optional[List[str]] = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repository", required=True, help="REGISTRY/NAME to push to")
    parser.add_argument("--output", default="-", help="where to write the manifests (default: stdout)")
    parser.add_argument("--workspace", type=Path, default=ROOT, help="the checkout (default: this script's)")
    parser.add_argument("--sign-key", metavar="KEY",
                        help="cosign key to sign with (a file in the checkout, env://VAR or a KMS URI)")
    parser.add_argument("--public-key", type=Path, help="its public key (default: KEY's .pub twin)")
    parser.add_argument("--podman-policy", type=Path, metavar="DIR",
                        help="also write podman's policy.json and registries.d/ for the signed repository")
    parser.add_argument("--push", nargs="+", metavar="ARG",
                        help="push command, given --repository and --digest-file (default: ./bazelw run //:push --)")
    args = parser.parse_args(argv)
    try:
        release(args)
    except ReleaseError as error:
        print(f"release: error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

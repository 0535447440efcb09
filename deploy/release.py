#!/usr/bin/env python3
"""Pushes the image index (amd64, arm64) and writes the Deployment and Service that run its digest.

Reads the version from app/app/__init__.py (image/version.py), pushes the image with
`./bazelw run //:push -- --repository R --digest-file F` (tagged with that version), then
writes the manifests of deploy/render.py for R@sha256:... Apply the result with
`kubectl apply -f FILE`.

    deploy/release.py --repository registry.example/team/workload --output release.yaml
"""

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import List, Optional

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "deploy"), str(ROOT / "image"), str(ROOT / "runtime")]

import render  # noqa: E402  (deploy/render.py, found through the line above)
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


def release(args: argparse.Namespace) -> str:
    """Pushes, then writes the manifests; returns the pushed reference."""
    try:
        tag = version.image_tag(version.read_version(args.workspace / "app" / "app" / "__init__.py"))
    except (OSError, SyntaxError, version.VersionError) as error:
        raise ReleaseError(f"cannot read the version: {error}") from None
    print(f"release: pushing {args.repository}:{tag}", file=sys.stderr)
    reference = push(args.push or [str(args.workspace / "bazelw"), "run", "//:push", "--"], args.repository,
                     args.workspace)
    text = render.dump(render.manifests(reference))
    if args.output == "-":
        sys.stdout.write(text)
    else:
        Path(args.output).write_text(text)
    print(f"release: {args.repository}:{tag} is {reference}", file=sys.stderr)
    return reference


def main(argv: Optional[List[str]] = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repository", required=True, help="REGISTRY/NAME to push to")
    parser.add_argument("--output", default="-", help="where to write the manifests (default: stdout)")
    parser.add_argument("--workspace", type=Path, default=ROOT, help="the checkout (default: this script's)")
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

"""Signs an image in a registry with cosign, or attaches a signed attestation to it: what
`bazel run` executes for cosign_sign and cosign_attest.

    cosign_image.py sign --image LAYOUT --repository R [--key KEY] [COSIGN FLAGS...]
    cosign_image.py attest --image LAYOUT --repository R --type T --predicate FILE [--key KEY] [...]

The image is named by the digest of the layout Bazel built (REPOSITORY@sha256:...), so
what is signed is exactly what was built, whatever a tag says. The last --repository wins
(the rule's, then the user's). Flags this tool does not know go to cosign unchanged.

With --key and none of --signing-config, --use-signing-config, --tlog-upload: offline, no
transparency log and no signing configuration fetched (a key needs neither). The key's
password comes from $COSIGN_PASSWORD. Signatures use cosign's tag scheme
(sha256-DIGEST.sig, which podman's sigstoreSigned policy reads) unless
--new-bundle-format is given; an index is signed with each of its images (--recursive:
a runtime checks the image it pulls for its platform). Attestations use cosign's bundle
format: an OCI referrer, or the referrers tag where the registry lacks that API. A
registry on loopback may be plain HTTP. Credentials: $REGISTRY_AUTH_FILE, else
~/.docker/config.json. A failure is one line on stderr and exit status 1.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import layout
from registry import RegistryError, auth_file, check_repository, is_loopback, key_reference, registry_address

COSIGN = "cosign"
TIMEOUT = 300
OFFLINE_FLAGS = ["--use-signing-config=false", "--tlog-upload=false"]
ONLINE_FLAGS = ("--signing-config", "--use-signing-config", "--tlog-upload")
KNOWN_ERRORS = {
    "inappropriate ioctl for device": "the key is encrypted: set COSIGN_PASSWORD (empty for a key made without one)",
    "decryption failed": "COSIGN_PASSWORD does not open the key",
}


class CosignError(RegistryError):
    """cosign failed; the message is the one line to show."""


def parse_args(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    """Returns this tool's arguments and the flags left for cosign."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    parser.add_argument("command", choices=["sign", "attest"])
    parser.add_argument("--image", required=True, type=Path, help="OCI image layout directory (an image or an index)")
    parser.add_argument("-r", "--repository", help="REGISTRY/NAME the image was pushed to; the last one given wins")
    parser.add_argument("--key", help="cosign key: a file (where `bazel run` was called), env://VAR or a KMS URI")
    parser.add_argument("--type", help="attest: the predicate type (spdxjson, slsaprovenance1, a URI, ...)")
    parser.add_argument("--predicate", type=Path, help="attest: the predicate file")
    args, rest = parser.parse_known_args(argv)
    if args.command == "attest" and not (args.type and args.predicate):
        parser.error("attest needs --type and --predicate")
    return args, rest


def given(flags: list[str], names: tuple[str, ...]) -> bool:
    """Tells whether FLAGS hold one of NAMES, as `--name value` or `--name=value`."""
    return any(flag.split("=", 1)[0] in names for flag in flags)


def cosign_flags(args: argparse.Namespace, rest: list[str], host: str, index: bool) -> list[str]:
    """The flags of the cosign command ARGS ask for (REST: the user's own, last)."""
    flags = ["--yes"]
    if args.key:
        flags += ["--key", key_reference(args.key)]
        if not given(rest, ONLINE_FLAGS):
            flags += OFFLINE_FLAGS
    if is_loopback(host):
        flags += ["--allow-http-registry", "--allow-insecure-registry"]
    if args.command == "sign":
        if not given(rest, ("--new-bundle-format",)):
            flags.append("--new-bundle-format=false")
        if index:
            flags.append("--recursive")
    else:
        flags += ["--type", args.type, "--predicate", str(args.predicate)]
    return flags + rest


def one_line(stderr: str) -> str:
    """Condenses cosign's stderr into one readable line."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("Error:")]
    message = (errors or lines or ["cosign failed without a message"])[-1].removeprefix("Error:").strip()
    for known, hint in KNOWN_ERRORS.items():
        if known in message:
            return hint
    return message


def run(args: argparse.Namespace, rest: list[str]) -> str:
    """Runs cosign for ARGS; returns what it did, in a few words."""
    repository = check_repository(args.repository)
    host, _ = registry_address(repository)
    top = layout.top_descriptor(args.image)
    reference = f"{repository}@{top['digest']}"
    index = top.get("mediaType") == layout.INDEX_MEDIA_TYPE
    command = [COSIGN, args.command, *cosign_flags(args, rest, host, index), reference]
    with tempfile.TemporaryDirectory() as scratch:
        env = dict(os.environ)
        credentials = auth_file()
        if credentials:  # cosign reads a docker config directory: point one at the file
            (Path(scratch) / "config.json").symlink_to(Path(credentials).absolute())
            env["DOCKER_CONFIG"] = scratch
        try:
            result = subprocess.run(command, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                    timeout=TIMEOUT, check=False)
        except FileNotFoundError:
            raise CosignError("cosign is not installed (it is needed to sign)") from None
    if result.returncode != 0:
        what = "signing" if args.command == "sign" else f"attesting {args.type} for"
        raise CosignError(f"{what} {reference} failed: {one_line(result.stderr)}")
    if args.command == "attest":
        return f"attached a signed {args.type} attestation to {reference}"
    return f"signed {reference}" + (" and each image it lists" if index else "")


def main(argv: list[str]) -> int:
    """Entry point: signs or attests, prints what it did, reports failure in one line."""
    args, rest = parse_args(argv)
    name = "cosign_sign" if args.command == "sign" else "cosign_attest"
    try:
        done = run(args, rest)
    except (RegistryError, OSError, layout.LayoutError, subprocess.TimeoutExpired) as error:
        print(f"{name}: {error}", file=sys.stderr)
        return 1
    print(f"{name}: {done}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

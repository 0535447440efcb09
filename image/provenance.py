"""Writes the SLSA provenance (v1) predicate of the image: which source, locks and build
root it was built from, by `./bazelw`.

    provenance.py --status STABLE_STATUS --target //image:image_index \
        --lock debian/packages.lock.json=PATH ... --output provenance.json

The commit, the remote and the build root come from Bazel's stable workspace status
(image/status.sh); each lock is named by its path in the checkout with its sha256. The
predicate holds no time and no host detail: the same commit, locks and root give the
same bytes. `cosign attest --type slsaprovenance1` wraps it in a signed in-toto
statement whose subject is the pushed image's digest.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

from version import read_status

BUILD_TYPE = "urn:python-workload-kit:bazelw-image:v1"
BUILDER_ID = "urn:python-workload-kit:bazelw"


def sha256_of(path: Path) -> str:
    """The hex sha256 of PATH's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def predicate(status: dict[str, str], target: str, locks: list[tuple[str, Path]]) -> dict:
    """The SLSA v1 predicate for TARGET built from STATUS's source and build root and LOCKS
    ((name in the checkout, file) pairs)."""
    commit, remote = status.get("STABLE_GIT_COMMIT", ""), status.get("STABLE_GIT_REMOTE", "")
    source: dict = {"uri": f"git+{remote}" if remote else "git+unknown"}
    dependencies = []
    if commit:
        source["digest"] = {"gitCommit": commit}
        source["uncommittedChanges"] = status.get("STABLE_GIT_DIRTY") == "true"
        dependencies.append({"uri": source["uri"], "digest": {"gitCommit": commit}})
    dependencies += [{"name": name, "digest": {"sha256": sha256_of(path)}} for name, path in sorted(locks)]
    root = {"pins": status.get("STABLE_BUILD_ROOT", "")}
    if status.get("STABLE_BUILD_ROOT_IMAGE"):
        root["image"] = status["STABLE_BUILD_ROOT_IMAGE"]
    return {
        "buildDefinition": {
            "buildType": BUILD_TYPE,
            "externalParameters": {"target": target, "source": source},
            "internalParameters": {"buildRoot": root},
            "resolvedDependencies": dependencies,
        },
        "runDetails": {"builder": {"id": BUILDER_ID, "version": {"buildRoot": root["pins"]}}},
    }


def lock_argument(value: str) -> tuple[str, Path]:
    """Parses NAME=PATH."""
    name, equals, path = value.partition("=")
    if not equals or not name or not path:
        raise argparse.ArgumentTypeError(f"expected NAME=PATH, got {value!r}")
    return name, Path(path)


def main(argv: list[str]) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--status", type=Path, required=True, help="Bazel's stable workspace status file")
    parser.add_argument("--target", required=True, help="the label of what was built")
    parser.add_argument("--lock", type=lock_argument, action="append", default=[], metavar="NAME=PATH",
                        help="a lock file: its path in the checkout, and where to read it (repeatable)")
    parser.add_argument("--output", type=Path, required=True, help="the predicate file to write")
    args = parser.parse_args(argv)
    try:
        document = predicate(read_status([args.status]), args.target, args.lock)
        args.output.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    except OSError as error:
        print(f"provenance: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

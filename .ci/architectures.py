#!/usr/bin/env python3
"""Architectures are data: every per-architecture target comes from debian/architectures.bzl.

Lists the targets of //... here, then in a clone (.ci/clone.sh) whose table has one more
entry, a fake architecture (its pins are not there: nothing is built, only loaded), and
checks, in both, that every architecture of the table has a target for each of the
targets another architecture (REFERENCE) has by name, e.g. //image:image_arm64,
//image:sbom_arm64, //image/tests:image_arm64_emulated_test; and that the clone's new
ones are exactly the fake architecture's. Both listings are printed per architecture.

Usage: .ci/architectures.py [--keep]
"""

import argparse
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Dict, List, Set

KIT = Path(__file__).resolve().parent.parent
TABLE = Path("debian/architectures.bzl")
# What a new architecture's entry looks like: riscv64 (Debian 13 has it) with real values.
FAKE = "riscv64"
FAKE_ENTRY = ('    "riscv64": struct(triplet = "riscv64-linux-gnu", loader = "ld-linux-riscv64-lp64d.so.1", '
              'bazel_cpu = "riscv64", machine = "riscv64", elf_machine = 243),\n')


class CheckError(Exception):
    """A failed check; the message is one line."""


def architectures(workspace: Path) -> List[str]:
    """The table's keys, in its order."""
    text = (workspace / TABLE).read_text(encoding="utf-8")
    return re.findall(r'^    "([a-z0-9]+)": struct\(', text, re.M)


def add_fake(workspace: Path) -> None:
    """Adds FAKE_ENTRY as the table's last entry."""
    path = workspace / TABLE
    text = path.read_text(encoding="utf-8")
    end = text.index("\n}\n", text.index("ARCHITECTURES = {"))
    path.write_text(text[:end + 1] + FAKE_ENTRY + text[end + 1:], encoding="utf-8")


def targets(workspace: Path, *bazel_options: str) -> Set[str]:
    """Every target label of //... in WORKSPACE (loaded, not built)."""
    done = subprocess.run(["./bazelw", *bazel_options, "query", "//...", "--output=label"],
                          cwd=str(workspace), stdout=subprocess.PIPE, text=True, check=False)
    if done.returncode != 0:
        raise CheckError(f"bazel query //... failed in {workspace} (see above)")
    return set(done.stdout.split())


def per_architecture(labels: Set[str], arch: str) -> Set[str]:
    """The labels whose name holds ARCH as a word of its own (image_arm64, attest_sbom_arm64_...)."""
    word = re.compile(r"(^|[_:/])%s($|_)" % re.escape(arch))
    return {label for label in labels if word.search(label.split(":", 1)[1])}


def check(labels: Set[str], table: List[str], build: str, reference: str) -> Dict[str, int]:
    """Each architecture's count of targets named for it; fails naming one REFERENCE has and
    another architecture lacks. The build's own architecture has //:image and the rest
    unsuffixed, with NAME_ARCH aliases, and no emulated test: only its image is checked."""
    expected = per_architecture(labels, reference)
    if not expected:
        raise CheckError(f"no target is named for {reference}")
    for arch in table:
        renamed = {re.sub(r"(^|[_:/])%s($|_)" % reference, r"\g<1>%s\g<2>" % arch, label) for label in expected}
        missing = sorted(renamed - labels) if arch != build else sorted({f"//image:image_{arch}"} - labels)
        if missing:
            raise CheckError(f"{arch} lacks {len(missing)} of {reference}'s targets, e.g. {missing[0]}")
    return {arch: len(per_architecture(labels, arch)) for arch in table}


def build_architecture(workspace: Path) -> str:
    """The table's entry whose machine is this one's."""
    text = (workspace / TABLE).read_text(encoding="utf-8")
    for name, machine in re.findall(r'^    "([a-z0-9]+)": struct\(.*machine = "([^"]+)"', text, re.M):
        if machine == platform.machine():
            return name
    raise CheckError(f"no entry of {TABLE} is this machine's ({platform.machine()})")


def main() -> int:
    """Entry point: the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", action="store_true", help="keep the clone (its path is printed)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="architectures.", dir="/var/cache/bazelw/bazel"))
    clone, output_base = work / "checkout", work / "output"
    try:
        table, build = architectures(KIT), build_architecture(KIT)
        reference = next(arch for arch in table if arch != build)
        here = targets(KIT)
        print(f"architectures: here {check(here, table, build, reference)} (build: {build})", flush=True)
        subprocess.run([str(KIT / ".ci/clone.sh"), str(clone)], check=True)
        add_fake(clone)
        if architectures(clone) != table + [FAKE]:
            raise CheckError(f"the clone's table is {architectures(clone)}")
        there = targets(clone, f"--output_base={output_base}")
        counts = check(there, table + [FAKE], build, reference)
        print(f"architectures: with {FAKE} added {counts}", flush=True)
        added = there - here
        if added != per_architecture(there, FAKE) or not added:
            raise CheckError(f"adding {FAKE} added {sorted(added - per_architecture(there, FAKE))[:3]}, not just its own")
        if len(added) != len(per_architecture(here, reference)):
            raise CheckError(f"{FAKE} has {len(added)} targets, {reference} {len(per_architecture(here, reference))}")
        print(f"architectures: {FAKE}: {len(added)} targets appeared, as {reference} has, e.g. "
              + ", ".join(sorted(added)[:4]), flush=True)
    except (CheckError, subprocess.CalledProcessError) as error:
        print(f"architectures.py: {error}", file=sys.stderr)
        return 1
    finally:
        if output_base.exists():
            subprocess.run(["./bazelw", f"--output_base={output_base}", "shutdown"], cwd=str(clone), check=False)
        if args.keep:
            print(f"architectures: kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Compares the Debian locks with the archives' current indexes: ./bazelw run //debian:outdated

For every package of debian/packages.lock.json and requirements_debian_lock.json, reads
the newest version the suites of debian/packages.json offer now (InRelease signatures
and index sha256 checked, as the resolver does) and prints one line: name, locked
version, available version, and "security" when the newer version comes from the
security archive. A package whose line differs between architectures is printed once
per architecture, as NAME:ARCH. A newer version reaches the image only through a refreshed lock:
./bazelw run //debian:lock (which this prints when something is newer). With
--check, exits 1 when anything is newer (for a scheduled CI job).
"""

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Dict, List, Tuple

import debversion
import resolve


def compare(locked: List[dict], archive: resolve.Archive) -> List[Tuple[str, str, str, str]]:
    """(name, locked, available, note) per locked package, by name; note is "security",
    "newer", "gone" (no suite has the package any more) or ""."""
    rows = []
    for entry in sorted(locked, key=lambda e: e["name"]):
        current = archive.candidates.get(entry["name"])
        if current is None:
            rows.append((entry["name"], entry["version"], "-", "gone"))
            continue
        newer = debversion.compare(current["Version"], entry["version"]) > 0
        note = ("security" if current["Archive"] == "security" else "newer") if newer else ""
        rows.append((entry["name"], entry["version"], current["Version"], note))
    return rows


def locked_packages(workspace: Path, arch: str) -> List[dict]:
    """The packages of both locks for arch, each once."""
    by_name: Dict[str, dict] = {}
    for name in (resolve.BASE_LOCK, resolve.USER_LOCK):
        path = workspace / name
        if path.is_file():
            for entry in json.loads(path.read_text())["packages"].get(arch, []):
                by_name.setdefault(entry["name"], entry)
    return list(by_name.values())


def merge(per_arch: Dict[str, List[Tuple[str, str, str, str]]]) -> List[Tuple[str, str, str, str]]:
    """One row per package whose rows agree across architectures, else NAME:ARCH rows."""
    by_name: Dict[str, Dict[str, Tuple[str, str, str, str]]] = {}
    for arch, rows in per_arch.items():
        for row in rows:
            by_name.setdefault(row[0], {})[arch] = row
    merged = []
    for name in sorted(by_name):
        rows = by_name[name]
        if len(set(rows.values())) == 1 and len(rows) == len(per_arch):
            merged.append(next(iter(rows.values())))
        else:
            merged.extend((name + ":" + arch,) + rows[arch][1:] for arch in sorted(rows))
    return merged


def main(argv: List[str]) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog=__doc__.split("\n", 2)[2],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="exit 1 if any locked package has a newer version")
    parser.add_argument("--keyring", default=resolve.KEYRING, help="keyring that signs the archives (default: %(default)s)")
    args = parser.parse_args(argv)
    workspace = Path(os.environ.get("BUILD_WORKSPACE_DIRECTORY", "."))
    try:
        config, archives = resolve.workspace_archives(workspace, args.keyring)
        rows = merge({arch: compare(locked_packages(workspace, arch), archives[arch]) for arch in config["architectures"]})
    except (resolve.ResolveError, OSError, KeyError, ValueError) as error:
        print("outdated: %s" % error, file=sys.stderr)
        return 1
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for name, locked, available, note in rows:
        arrow = "->" if note else "  "
        print("%s  %s %s %s  %s" % (name.ljust(widths[0]), locked.ljust(widths[1]), arrow,
                                    available.ljust(widths[2]), note), flush=True)
    newer = [row for row in rows if row[3]]
    security = [row for row in rows if row[3] == "security"]
    print("outdated: %d of %d locked packages have a newer version (%d security updates)"
          % (len(newer), len(rows), len(security)), file=sys.stderr)
    if newer:
        print("outdated: ./bazelw run //debian:lock refreshes the lock (the image changes only through it)",
              file=sys.stderr)
    return 1 if args.check and newer else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

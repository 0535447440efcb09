"""Resolves debian/packages.json into debian/packages.lock.json; the user's requirements_debian.txt too.

Reads the signed InRelease of every suite listed under "archives", verifies it with
sqv against Debian's archive keyring, checks each Packages index against its
sha256 there, picks the newest version of every package across the suites, follows
Pre-Depends and Depends (never Recommends) except into the "skip" list, and writes
the lock: for each architecture of debian/architectures.bzl (resolved against its own
indexes), one entry per package with name, version, architecture, archive, path, sha256 and the sets that
need it, sorted, so unchanged input gives the same bytes.

The user's requirements_debian.txt ("image: PACKAGE" for a library the image needs,
"build: PACKAGE" for headers or tools a requirement builds against) is resolved against
the base lock, whose versions stay as they are, into requirements_debian_lock.json: only
what the base lock lacks. lock_user_packages does so for ./bazelw run
//:requirements.update, the one program that writes that file; run as //debian:lock,
this says when the base lock it just wrote leaves that file stale.
"""

import argparse
import hashlib
import json
import lzma
import os
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path
from typing import Dict, List, Optional, Set, Tuple

import debversion
from architectures import TABLE

KEYRING = "/usr/share/keyrings/debian-archive-keyring.pgp"
CONFIG = "debian/packages.json"
BASE_LOCK = "debian/packages.lock.json"
USER_FILE = "requirements_debian.txt"
USER_LOCK = "requirements_debian_lock.json"
# The user's words for the lock's sets.
USER_SETS = {"image": "image", "build": "sysroot"}


class ResolveError(Exception):
    """A problem with the input or the archive, reported as one line."""


def fetch(url: str) -> bytes:
    """Downloads url, raising ResolveError naming it on failure."""
    try:
        with urllib.request.urlopen(url, timeout=120) as response:
            return response.read()
    except OSError as error:
        raise ResolveError("cannot download %s: %s" % (url, error)) from None


def verified_release(base: str, suite: str, keyring: str) -> str:
    """Returns the signed text of suite's InRelease, checked by sqv against keyring."""
    data = fetch("%s/dists/%s/InRelease" % (base, suite))
    with tempfile.TemporaryDirectory() as tmp:
        signed, verified = Path(tmp, "InRelease"), Path(tmp, "Release")
        signed.write_bytes(data)
        command = ["sqv", "--keyring", keyring, "--cleartext", "--output", str(verified), str(signed)]
        result = subprocess.run(command, capture_output=True, check=False)
        if result.returncode != 0:
            raise ResolveError("bad signature on %s/dists/%s/InRelease" % (base, suite))
        return verified.read_text()


def packages_index(base: str, suite: str, arch: str, keyring: str) -> str:
    """Returns suite's main Packages index for arch, checked against InRelease."""
    release = verified_release(base, suite, keyring)
    member = "main/binary-%s/Packages.xz" % arch
    sums = release.split("\nSHA256:\n", 1)[-1]
    wanted = next((line.split()[0] for line in sums.splitlines() if line.startswith(" ") and line.split()[-1] == member), None)
    if wanted is None:
        raise ResolveError("%s has no %s" % (suite, member))
    data = fetch("%s/dists/%s/%s" % (base, suite, member))
    if hashlib.sha256(data).hexdigest() != wanted:
        raise ResolveError("sha256 mismatch for %s/dists/%s/%s" % (base, suite, member))
    return lzma.decompress(data).decode()


def parse_index(text: str) -> List[Dict[str, str]]:
    """Parses a Packages index into one dict of fields per stanza."""
    stanzas = []
    for block in text.split("\n\n"):
        fields: Dict[str, str] = {}
        key = ""
        for line in block.splitlines():
            if line.startswith((" ", "\t")):
                fields[key] += "\n" + line
            elif line:
                key, _, value = line.partition(":")
                fields[key] = value.strip()
        if fields:
            stanzas.append(fields)
    return stanzas


class Archive:
    """Every candidate package from the configured suites, newest version first."""

    def __init__(self) -> None:
        self.candidates: Dict[str, Dict[str, str]] = {}
        self.providers: Dict[str, Set[str]] = {}

    def add(self, archive: str, stanzas: List[Dict[str, str]]) -> None:
        """Adds a suite's packages, keeping the newest version of each name."""
        for fields in stanzas:
            fields["Archive"] = archive
            name = fields["Package"]
            current = self.candidates.get(name)
            if current is None or debversion.compare(fields["Version"], current["Version"]) > 0:
                self.candidates[name] = fields
            for provided in debversion.parse_depends(fields.get("Provides", "")):
                self.providers.setdefault(provided[0].name, set()).add(name)

    def pin(self, entries: List[dict]) -> None:
        """Makes each locked entry the only candidate of its name, at its locked version.

        Its dependencies are the index's, which must then hold the same version.
        """
        for entry in entries:
            fields = self.candidates.get(entry["name"], {})
            depends = {k: fields[k] for k in ("Pre-Depends", "Depends") if k in fields}
            if fields.get("Version") != entry["version"]:
                depends = {"Unknown": "locked at %s; the archive has %s" % (entry["version"], fields.get("Version", "none"))}
            self.candidates[entry["name"]] = dict(depends, Package=entry["name"], Version=entry["version"],
                                                  Architecture=entry["architecture"], Archive=entry["archive"],
                                                  Filename=entry["path"], SHA256=entry["sha256"])

    def pick(self, alternative: debversion.Alternative) -> Optional[str]:
        """Returns the real package satisfying alternative, or None."""
        fields = self.candidates.get(alternative.name)
        if fields and debversion.satisfies(fields["Version"], alternative.relation, alternative.version):
            return alternative.name
        if alternative.relation is None:
            return min(self.providers.get(alternative.name, ()), default=None)
        return None


def resolve(config: dict, archive: Archive, base: Optional[List[dict]] = None) -> List[dict]:
    """Returns the lock entries for config's sets, dependencies included.

    With base (the entries of a lock, pinned in archive), a package already in base for a
    set is not followed again, and only entries base lacks (or lacks for a set) are returned.
    """
    skip = set(config.get("skip", {}))
    fixed = {entry["name"]: set(entry["sets"]) for entry in base or []}
    membership: Dict[str, Set[str]] = {}
    for set_name, roots in sorted(config["sets"].items()):
        queue = list(roots)
        seen: Set[str] = set()
        while queue:
            name = queue.pop(0)
            if name in seen:
                continue
            if name not in archive.candidates:
                raise ResolveError("unknown package %r (set %s or a dependency of it)" % (name, set_name))
            seen.add(name)
            if set_name in fixed.get(name, ()):
                continue
            fields = archive.candidates[name]
            if "Unknown" in fields:
                raise ResolveError("%s is %s: refresh the base lock first (./bazelw run //debian:lock)" % (name, fields["Unknown"]))
            field = ", ".join(filter(None, (fields.get("Pre-Depends"), fields.get("Depends"))))
            for clause in debversion.parse_depends(field):
                if any(alt.name in seen or alt.name in skip for alt in clause):
                    continue
                picked = next(filter(None, map(archive.pick, clause)), None)
                if picked is None:
                    wanted = " | ".join(a.name + (" (%s %s)" % (a.relation, a.version) if a.relation else "") for a in clause)
                    have = ", ".join("%s %s" % (a.name, archive.candidates[a.name]["Version"]) for a in clause if a.name in archive.candidates)
                    raise ResolveError("%s depends on %s, which %s" % (name, wanted, ("the lock and the suites have only " + have) if have else "no suite provides"))
                queue.append(picked)
        for name in seen:
            if set_name not in fixed.get(name, ()):
                membership.setdefault(name, set()).add(set_name)
    entries = []
    for name in sorted(membership):
        fields = archive.candidates[name]
        entries.append({
            "name": name,
            "version": fields["Version"],
            "architecture": fields["Architecture"],
            "archive": fields["Archive"],
            "path": fields["Filename"],
            "sha256": fields["SHA256"],
            "sets": sorted(membership[name] | fixed.get(name, set())),
        })
    return entries


def expand(config: dict) -> dict:
    """CONFIG with "{python}" in its package names replaced by its "python" version."""
    sets = {name: [root.format(python=config["python"]) for root in roots] for name, roots in config["sets"].items()}
    return dict(config, sets=sets)


def lock_document(config: dict, archives: Dict[str, Archive]) -> dict:
    """Returns the lock document for config, each architecture resolved against its archive."""
    return {
        "distribution": config["distribution"],
        "release": config["release"],
        "python": config["python"],
        "snapshots": config.get("snapshots", {}),
        "packages": {arch: resolve(expand(config), archives[arch]) for arch in config["architectures"]},
    }


def render(document: dict) -> str:
    """Returns the lock file's text: sorted keys, so unchanged input gives the same bytes."""
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def read_archives(config: dict, mirrors: Dict[str, str], keyring: str) -> Dict[str, Archive]:
    """Downloads and checks the indexes named by config, an Archive per architecture."""
    archives = {}
    for arch in config["architectures"]:
        archives[arch] = Archive()
        for archive_name, suites in sorted(config["archives"].items()):
            for suite in suites:
                print("resolve: reading %s %s (%s)" % (suite, arch, archive_name), file=sys.stderr)
                text = packages_index(mirrors[archive_name], suite, arch, keyring)
                archives[arch].add(archive_name, parse_index(text))
    return archives


def read_config(path: Path) -> dict:
    """packages.json, with "architectures": every architecture of debian/architectures.bzl."""
    config = json.loads(path.read_text())
    config["architectures"] = list(TABLE)
    return config


def workspace_archives(workspace: Path, keyring: str = KEYRING) -> Tuple[dict, Dict[str, Archive]]:
    """The workspace's packages.json and its archives, from the mirrors ./bazelw sets."""
    mirrors = {"main": os.environ.get("DEBIAN_MIRROR", ""), "security": os.environ.get("DEBIAN_SECURITY_MIRROR", "")}
    if not all(mirrors.values()):
        raise ResolveError("no Debian mirror: run it through ./bazelw, which sets DEBIAN_MIRROR and DEBIAN_SECURITY_MIRROR")
    config = read_config(workspace / CONFIG)
    return config, read_archives(config, {k: v.rstrip("/") for k, v in mirrors.items()}, keyring)


def count(document: dict) -> str:
    """How many packages a lock document holds, per architecture: "12 amd64, 12 arm64"."""
    return ", ".join("%d %s" % (len(entries), arch) for arch, entries in sorted(document["packages"].items()))


def read_user_packages(text: str) -> Dict[str, List[str]]:
    """The lock sets asked for by requirements_debian.txt ("image: NAME", "build: NAME")."""
    sets: Dict[str, List[str]] = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        kind, _, name = (part.strip() for part in line.partition(":"))
        if kind not in USER_SETS or not name or " " in name:
            raise ResolveError("%s:%d: expected 'image: PACKAGE' or 'build: PACKAGE', not %r" % (USER_FILE, number, line))
        sets.setdefault(USER_SETS[kind], []).append(name)
    return sets


def user_inputs_sha256(user_text: bytes, base_text: bytes) -> str:
    """sha256 over requirements_debian.txt and the base lock it was resolved against."""
    digest = hashlib.sha256()
    for data in (user_text, base_text):
        digest.update(b"%d\0" % len(data))
        digest.update(data)
    return digest.hexdigest()


def user_lock_document(config: dict, archives: Dict[str, Archive], base: dict, user_text: bytes, base_text: bytes) -> dict:
    """The user lock: what requirements_debian.txt needs beyond the base lock, per architecture."""
    sets = read_user_packages(user_text.decode("utf-8"))
    packages = {}
    for arch in config["architectures"]:
        archives[arch].pin(base["packages"][arch])
        packages[arch] = resolve(dict(config, sets=sets), archives[arch], base["packages"][arch]) if sets else []
    return {"inputs_sha256": user_inputs_sha256(user_text, base_text), "packages": packages}


def user_lock_is_current(workspace: Path) -> bool:
    """Whether requirements_debian_lock.json was made from the current inputs."""
    try:
        recorded = json.loads((workspace / USER_LOCK).read_text())["inputs_sha256"]
        current = user_inputs_sha256((workspace / USER_FILE).read_bytes(), (workspace / BASE_LOCK).read_bytes())
    except (OSError, ValueError, KeyError):
        return False
    return recorded == current


def lock_user_packages(workspace: Path, config: dict, archives: Dict[str, Archive]) -> str:
    """Writes the user lock for the workspace's files; returns how many entries it has."""
    base_text, user_text = (workspace / BASE_LOCK).read_bytes(), (workspace / USER_FILE).read_bytes()
    document = user_lock_document(config, archives, json.loads(base_text), user_text, base_text)
    (workspace / USER_LOCK).write_text(render(document))
    return count(document)


def main(argv: List[str]) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog=__doc__.split("\n", 2)[2],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default=CONFIG, help="package sets (default: %(default)s)")
    parser.add_argument("--out", default=BASE_LOCK, help="lock to write (default: %(default)s)")
    parser.add_argument("--mirror", default=os.environ.get("DEBIAN_MIRROR"), help="Debian archive URL (default: $DEBIAN_MIRROR)")
    parser.add_argument("--security-mirror", default=os.environ.get("DEBIAN_SECURITY_MIRROR"), help="Debian security archive URL (default: $DEBIAN_SECURITY_MIRROR)")
    parser.add_argument("--keyring", default=KEYRING, help="keyring that signs the archives (default: %(default)s)")
    args = parser.parse_args(argv)
    workspace = Path(os.environ.get("BUILD_WORKSPACE_DIRECTORY", "."))
    try:
        if not args.mirror or not args.security_mirror:
            raise ResolveError("no mirror: pass --mirror and --security-mirror (./bazelw sets them)")
        config = read_config(workspace / args.config)
        mirrors = {"main": args.mirror.rstrip("/"), "security": args.security_mirror.rstrip("/")}
        archives = read_archives(config, mirrors, args.keyring)
        document = lock_document(config, archives)
        (workspace / args.out).write_text(render(document))
        print("resolve: wrote %s packages to %s" % (count(document), args.out), file=sys.stderr)
        if args.out == BASE_LOCK and not user_lock_is_current(workspace):
            print("resolve: %s was resolved against the old lock: run ./bazelw run //:requirements.update" % USER_LOCK,
                  file=sys.stderr)
    except (ResolveError, OSError, KeyError, ValueError) as error:
        print("resolve: %s" % error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

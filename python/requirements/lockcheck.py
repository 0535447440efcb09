"""Tells whether the requirements locks still match the files they were made from.

The locks ``./bazelw run //:requirements.update`` writes, the user's two and the kit's
own test lock (``MACHINES``):

* ``requirements_lock.txt``: everything the image holds from PyPI, resolved together
  from the user's ``requirements.txt`` and the server's ``runtime/requirements.txt``.
  The app, its tests and the image see exactly this set (and the kit's own meinheld).
* ``requirements_test_lock.txt``: what ``requirements_test.txt`` adds for the tests
  only (pytest...), resolved against the first lock and never repeating its packages.

A lock's first line records a sha256 of the files it was made from and of the Python
it is for (see ``inputs_sha256``); on top of that, each requirement of the inputs must be locked (at
its ``==`` version, if pinned), and each entry must be ``name==version`` with at least
one ``--hash=sha256:``. update.py resolves the locks universally (for every platform), so
an entry may carry a PEP 508 marker (``name==version ; platform_machine == 'aarch64'``)
and a name may have an entry for each of several markers.
"""

import dataclasses
import hashlib
import re
import sys
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Tuple

import markers
from architectures import TABLE

HEADER_PREFIX = "# inputs-sha256: "
UPDATE_COMMAND = "./bazelw run //:requirements.update"
# How update.py resolves (part of inputs_sha256: a lock resolved otherwise is stale).
RESOLUTION = "universal"

_NAME = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*)$")
_PIN = re.compile(r"^==\s*([^\s,;]+)\s*(;.*)?$")
_HASH = re.compile(r"^--hash=sha256:[0-9a-f]{64}$")


@dataclasses.dataclass(frozen=True)
class LockSpec:
    """One lock file and what it is made from (paths relative to the workspace)."""

    lock: str
    inputs: Tuple[str, ...]
    base: Optional[str] = None  # a lock this one extends: resolved against it, never repeating it

    @property
    def sources(self) -> Tuple[str, ...]:
        """The files whose bytes the lock's header hash covers, in order."""
        return self.inputs + ((self.base,) if self.base else ())


IMAGE = LockSpec(lock="requirements_lock.txt", inputs=("requirements.txt", "runtime/requirements.txt"))
TEST = LockSpec(lock="requirements_test_lock.txt", inputs=("requirements_test.txt",), base=IMAGE.lock)
# The kit's own: a requirement whose dependencies differ by machine, installed for every
# architecture by //python/pypi/tests (xopen needs isal on x86_64 only).
MACHINES = LockSpec(lock="python/pypi/tests/machines_lock.txt", inputs=("python/pypi/tests/machines.txt",))
LOCKS = (IMAGE, TEST, MACHINES)


def canonical_name(name: str) -> str:
    """The PEP 503 normalised form of a distribution name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def inputs_sha256(spec: LockSpec, texts: Mapping[str, bytes]) -> str:
    """sha256 over the Python the lock is for (the one running this: the image's), the
    RESOLUTION, and each source file's name, length and bytes, in ``spec.sources`` order."""
    digest = hashlib.sha256(b"python %d.%d\0%s\0" % (*sys.version_info[:2], RESOLUTION.encode()))
    for name in spec.sources:
        data = texts[name]
        digest.update(b"%s\0%d\0" % (name.encode(), len(data)))
        digest.update(data)
    return digest.hexdigest()


def logical_lines(text: str) -> List[str]:
    """Non-empty lines with backslash continuations joined and comments removed."""
    lines: List[str] = []
    pending = ""
    for raw in text.splitlines():
        line = re.sub(r"(^|\s)#.*$", "", raw).rstrip()
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = (pending + line).strip(), ""
        if line:
            lines.append(line)
    if pending.strip():
        lines.append(pending.strip())
    return lines


def parse_requirements(text: str, source: str) -> Tuple[Dict[str, Optional[str]], List[str]]:
    """Map each requirement's canonical name to its ``==`` version (None if unpinned).

    Returns the map and a list of problems (lines that are not plain requirements).
    """
    found: Dict[str, Optional[str]] = {}
    problems: List[str] = []
    for line in logical_lines(text):
        match = _NAME.match(line)
        if line.startswith("-") or not match:
            problems.append(f"{source}: unsupported line {line!r} (only plain requirements)")
            continue
        name, rest = canonical_name(match.group(1)), match.group(3)
        pin = _PIN.match(rest)
        found[name] = pin.group(1) if pin else None
    return found, problems


@dataclasses.dataclass(frozen=True)
class LockEntry:
    """One entry of a lock: ``name==version [; marker] --hash=sha256:...``."""

    name: str  # canonical
    version: str
    marker: str  # its PEP 508 environment marker (a universal lock's), "" if none
    hashes: Tuple[str, ...]  # the well-formed sha256 digests, sorted


def lock_entries(text: str, source: str) -> Tuple[List[LockEntry], List[str]]:
    """Each entry of a lock, in order (a name may repeat under different markers);
    list entries that break the rules."""
    entries: List[LockEntry] = []
    problems: List[str] = []
    for line in logical_lines(text):
        requirement, _, rest = line.partition(";")
        first, *options = requirement.split() or [""]
        words = rest.split()
        marker_size = next((i for i, word in enumerate(words) if word.startswith("--")), len(words))
        options += words[marker_size:]
        match = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)$", first)
        if not match:
            problems.append(f"{source}: entry {first!r} is not pinned as name==version")
            continue
        name = canonical_name(match.group(1))
        hashes = [o for o in options if o.startswith("--hash=")]
        digests = tuple(sorted(h.split(":", 1)[-1] for h in hashes if _HASH.match(h)))
        entries.append(LockEntry(name, match.group(2), " ".join(words[:marker_size]), digests))
        if not hashes:
            problems.append(f"{source}: {name} has no --hash")
        problems += [f"{source}: {name} has a malformed hash {h!r}" for h in hashes if not _HASH.match(h)]
    return entries, problems


def parse_lock(text: str, source: str, environment: Optional[Mapping[str, str]] = None) -> Tuple[Dict[str, Tuple[str, List[str]]], List[str]]:
    """Map each locked canonical name to (version, sha256 hashes); list entries that break the rules.

    With ENVIRONMENT (marker variables: ``environment_of``), the entries whose marker holds
    there, as the pypi extension installs them; without, each name's first entry (see
    ``lock_entries`` for every entry and its marker).
    """
    entries, problems = lock_entries(text, source)
    locked: Dict[str, Tuple[str, List[str]]] = {}
    for entry in entries:
        if environment is not None and entry.marker:
            holds, error = markers.evaluate_marker(entry.marker, dict(environment))
            if error or not holds:
                problems += [f"{source}: {error}"] if error else []
                continue
        if environment is not None and entry.name in locked:
            problems.append(f"{source}: two entries of {entry.name} hold on {environment['platform_machine']}")
        locked.setdefault(entry.name, (entry.version, list(entry.hashes)))
    return locked, problems


def environment_of(debian_lock: dict) -> Dict[str, str]:
    """The marker variables of the image a Debian lock of one architecture (@debian//ARCH:lock.json)
    makes: its CPU, and the version of its Python (the lock's "python", its libpythonX.Y)."""
    python, full_version = markers.debian_python_versions(debian_lock["python"], debian_lock["packages"])
    if not full_version:
        raise ValueError(f"the Debian lock holds no libpython{python} package")
    return markers.marker_environment(TABLE[debian_lock["architecture"]]["machine"], python, full_version)


def check_texts(spec: LockSpec, texts: Mapping[str, bytes]) -> List[str]:
    """Every reason ``texts[spec.lock]`` does not match its sources (empty: it does)."""
    lock_text = texts[spec.lock].decode("utf-8")
    first_line = (lock_text.splitlines() or [""])[0]
    problems: List[str] = []
    if not first_line.startswith(HEADER_PREFIX):
        problems.append(f"{spec.lock}: first line does not record {HEADER_PREFIX.strip()!r}")
    elif first_line[len(HEADER_PREFIX) :].strip() != inputs_sha256(spec, texts):
        problems.append(f"{spec.lock}: {' or '.join(spec.sources)} changed since the lock was generated")
    wanted: Dict[str, Optional[str]] = {}
    for name in spec.inputs:
        found, found_problems = parse_requirements(texts[name].decode("utf-8"), name)
        wanted.update(found)
        problems += found_problems
    locked, lock_problems = parse_lock(lock_text, spec.lock)
    problems += lock_problems
    available = {name: entry[0] for name, entry in locked.items()}
    if spec.base:
        base, _ = parse_lock(texts[spec.base].decode("utf-8"), spec.base)
        problems += [f"{spec.lock}: {name} is already in {spec.base}" for name in sorted(set(base) & set(locked))]
        available.update((name, entry[0]) for name, entry in base.items())
    for name, version in sorted(wanted.items()):
        if name not in available:
            problems.append(f"{spec.lock}: {name} is not locked")
        elif version is not None and available[name] != version:
            problems.append(f"{spec.lock}: {name} is locked at {available[name]}, the inputs ask for {version}")
    return problems


def check_workspace(workspace: Path, specs: Tuple[LockSpec, ...] = LOCKS) -> List[str]:
    """``check_texts`` for each lock in ``workspace``; a missing file is a problem."""
    problems: List[str] = []
    for spec in specs:
        names = spec.sources + (spec.lock,)
        missing = [n for n in names if not (workspace / n).is_file()]
        if missing:
            problems.append("missing {} in {}".format(", ".join(missing), workspace))
        else:
            problems += check_texts(spec, {n: (workspace / n).read_bytes() for n in names})
    return problems

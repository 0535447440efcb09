"""Tells whether requirements_lock.txt still matches requirements.txt and its override.

The lock's first line records a sha256 of the inputs (see ``inputs_sha256``); on top of
that, each requirement of the inputs must be locked (at its ``==`` version, if pinned),
and each lock entry must be ``name==version`` with at least one ``--hash=sha256:``.
"""

import hashlib
import re
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Tuple

REQUIREMENTS = "requirements.txt"
OVERRIDE = "requirements_override.txt"
LOCK = "requirements_lock.txt"
INPUTS = (REQUIREMENTS, OVERRIDE)
HEADER_PREFIX = "# inputs-sha256: "
UPDATE_COMMAND = "./bazelw run //:requirements.update"

_NAME = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*)$")
_PIN = re.compile(r"^==\s*([^\s,;]+)\s*(;.*)?$")
_HASH = re.compile(r"^--hash=sha256:[0-9a-f]{64}$")


def canonical_name(name: str) -> str:
    """The PEP 503 normalised form of a distribution name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def inputs_sha256(texts: Mapping[str, bytes]) -> str:
    """sha256 over each input file's name, length and bytes, in ``INPUTS`` order."""
    digest = hashlib.sha256()
    for name in INPUTS:
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


def parse_lock(text: str) -> Tuple[Dict[str, str], List[str]]:
    """Map each locked canonical name to its version; list entries that break the rules."""
    locked: Dict[str, str] = {}
    problems: List[str] = []
    for line in logical_lines(text):
        first, *options = line.split()
        match = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)$", first)
        if not match:
            problems.append(f"{LOCK}: entry {first!r} is not pinned as name==version")
            continue
        name = canonical_name(match.group(1))
        locked[name] = match.group(2)
        hashes = [o for o in options if o.startswith("--hash=")]
        if not hashes:
            problems.append(f"{LOCK}: {name} has no --hash")
        problems += [f"{LOCK}: {name} has a malformed hash {h!r}" for h in hashes if not _HASH.match(h)]
    return locked, problems


def check_texts(texts: Mapping[str, bytes]) -> List[str]:
    """Every reason the lock in ``texts[LOCK]`` does not match the inputs (empty: it does)."""
    lock_text = texts[LOCK].decode("utf-8")
    first_line = (lock_text.splitlines() or [""])[0]
    expected = inputs_sha256(texts)
    problems: List[str] = []
    if not first_line.startswith(HEADER_PREFIX):
        problems.append(f"{LOCK}: first line does not record {HEADER_PREFIX.strip()!r}")
    elif first_line[len(HEADER_PREFIX) :].strip() != expected:
        problems.append(f"{LOCK}: {REQUIREMENTS} or {OVERRIDE} changed since the lock was generated")
    wanted, wanted_problems = parse_requirements(texts[REQUIREMENTS].decode("utf-8"), REQUIREMENTS)
    overrides, override_problems = parse_requirements(texts[OVERRIDE].decode("utf-8"), OVERRIDE)
    locked, lock_problems = parse_lock(lock_text)
    problems += wanted_problems + override_problems + lock_problems
    wanted.update(overrides)  # an override's pin decides the locked version
    for name, version in sorted(wanted.items()):
        if name not in locked:
            problems.append(f"{LOCK}: {name} is not locked")
        elif version is not None and locked[name] != version:
            problems.append(f"{LOCK}: {name} is locked at {locked[name]}, the inputs ask for {version}")
    return problems


def check_workspace(workspace: Path) -> List[str]:
    """``check_texts`` on the three files in ``workspace``; a missing file is a problem."""
    missing = [n for n in INPUTS + (LOCK,) if not (workspace / n).is_file()]
    if missing:
        return ["missing {} in {}".format(", ".join(missing), workspace)]
    return check_texts({n: (workspace / n).read_bytes() for n in INPUTS + (LOCK,)})

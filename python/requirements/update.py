"""Regenerates the requirements locks: ./bazelw run //:requirements.update

Writes requirements_lock.txt (requirements.txt with the server's runtime/requirements.txt:
everything the image holds) and requirements_test_lock.txt (what requirements_test.txt
adds for the tests), each with ``uv pip compile --universal --generate-hashes``: for every
platform, the image's Python version and newer. An entry that only some platforms need
carries a PEP 508 marker (``name==1.0 ; platform_machine == 'aarch64'``, evaluated by
python/pypi/markers.bzl), platforms no image runs on (``sys_platform == 'win32'``)
included, and a package may have an entry for each of several markers. Each lock's first
line records the sha256 of its sources, which //image/tests:requirements_lock_test compares.
Then requirements_debian_lock.json, the Debian packages requirements_debian.txt names,
resolved against the base's lock. A lock whose sources did not change is left as it is,
so running it twice changes nothing; a lock that is rewritten keeps the versions it had
wherever its sources allow them (--upgrade takes the newest instead).
"""

import argparse
import os
import re
import stat
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import List, Optional, Set

import lockcheck
import resolve

PYTHON_VERSION = "%d.%d" % sys.version_info[:2]  # it runs on the image's Python


class UpdateError(Exception):
    """A failure worth one line to the user."""


def extract_uv(wheel: Path, directory: Path) -> Path:
    """Unpack the ``uv`` executable from the uv wheel into ``directory``."""
    try:
        with zipfile.ZipFile(wheel) as archive:
            members = [n for n in archive.namelist() if n.endswith(".data/scripts/uv")]
            if len(members) != 1:
                raise UpdateError(f"{wheel} holds no .data/scripts/uv")
            target = directory / "uv"
            target.write_bytes(archive.read(members[0]))
    except (OSError, zipfile.BadZipFile) as error:
        raise UpdateError(f"cannot read the uv wheel {wheel}: {error}") from None
    target.chmod(target.stat().st_mode | stat.S_IXUSR)
    return target


def compile_lock(uv: Path, workspace: Path, spec: lockcheck.LockSpec, scratch: Path, upgrade: bool) -> str:
    """Run ``uv pip compile`` for ``spec`` in ``workspace`` and return the lock it writes.

    The current lock (without its header) is uv's output file, so uv keeps its versions
    where it can, unless ``upgrade``.
    """
    output = scratch / "lock.txt"
    current = workspace / spec.lock
    if current.is_file() and not upgrade:
        output.write_text(current.read_text(encoding="utf-8").split("\n", 1)[-1])
    command = [str(uv), "pip", "compile", "--quiet", "--no-config", "--system-certs", "--generate-hashes"]
    command += ["--output-file", str(output)] + (["--upgrade"] if upgrade else [])
    command += ["--universal", "--python-version", PYTHON_VERSION]  # every platform, this Python and newer
    command += ["--custom-compile-command", lockcheck.UPDATE_COMMAND]
    inputs = list(spec.inputs)
    if spec.base:
        base = lockcheck.IMAGE if spec.base == lockcheck.IMAGE.lock else None
        if base is None:
            raise UpdateError(f"{spec.lock}: unknown base lock {spec.base}")
        # Resolve together with the base's inputs, its locked versions as constraints.
        inputs += list(base.inputs)
        entries, _ = lockcheck.lock_entries((workspace / spec.base).read_text(encoding="utf-8"), spec.base)
        constraints = scratch / "constraints.txt"
        constraints.write_text("".join(constraint(entry) + "\n" for entry in entries))
        command += ["--constraint", str(constraints)]
        locked = {entry.name for entry in entries}
    try:
        done = subprocess.run(command + inputs, cwd=str(workspace), stdout=subprocess.DEVNULL, check=False)
    except OSError as error:
        raise UpdateError(f"cannot run {uv}: {error}") from None
    if done.returncode != 0:
        raise UpdateError(f"uv pip compile for {spec.lock} failed (exit {done.returncode}); see its message above")
    text = output.read_text(encoding="utf-8")
    if spec.base:
        text = drop_entries(text, locked)
    return text


def constraint(entry: lockcheck.LockEntry) -> str:
    """The constraint holding a lock entry's version where its marker holds.

    A name locked at several versions under different markers gets one constraint for
    each, and uv's universal resolution keeps each to its marker.
    """
    return f"{entry.name}=={entry.version}" + (f" ; {entry.marker}" if entry.marker else "")


def drop_entries(text: str, names: Set[str]) -> str:
    """Remove the entries (a requirement line, its continuations and comments) of ``names``."""
    kept: List[str] = []
    dropping = False
    for line in text.splitlines(keepends=True):
        entry = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==", line)
        if entry:
            dropping = lockcheck.canonical_name(entry.group(1)) in names
        elif not line.startswith((" ", "\t")):
            dropping = False
        if not dropping:
            kept.append(line)
    return "".join(kept)


def update(uv: Path, workspace: Path, upgrade: bool = False) -> List[str]:
    """Rewrite each stale lock in ``workspace`` (every lock if ``upgrade``), in LOCKS order.

    Returns the locks written.
    """
    written: List[str] = []
    for spec in lockcheck.LOCKS:
        stale = upgrade or bool(lockcheck.check_workspace(workspace, (spec,))) or (spec.base in written)
        if not stale:
            continue
        print(f"update.py: resolving {spec.lock} from {', '.join(spec.inputs)}", file=sys.stderr, flush=True)
        texts = {name: (workspace / name).read_bytes() for name in spec.sources}
        with tempfile.TemporaryDirectory(prefix="update.") as scratch:
            body = compile_lock(uv, workspace, spec, Path(scratch), upgrade)
        lock = lockcheck.HEADER_PREFIX + lockcheck.inputs_sha256(spec, texts) + "\n" + body
        with tempfile.NamedTemporaryFile("w", dir=str(workspace), prefix=".lock.", delete=False) as out:
            out.write(lock)
        os.replace(out.name, str(workspace / spec.lock))
        problems = lockcheck.check_workspace(workspace, (spec,))
        if problems:
            raise UpdateError(f"the new {spec.lock} fails its check: " + "; ".join(problems))
        written.append(spec.lock)
    return written


def update_debian(workspace: Path) -> List[str]:
    """Re-resolve requirements_debian_lock.json if it is stale; return it if written."""
    if resolve.user_lock_is_current(workspace):
        return []
    print(f"update.py: resolving {resolve.USER_LOCK} from {resolve.USER_FILE}", file=sys.stderr, flush=True)
    try:
        resolve.lock_user_packages(workspace, *resolve.workspace_archives(workspace))
    except (resolve.ResolveError, OSError, ValueError, KeyError) as error:
        raise UpdateError(str(error)) from None
    return [resolve.USER_LOCK]


def parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--workspace",
        type=Path,
        default=os.environ.get("BUILD_WORKSPACE_DIRECTORY"),
        help="folder holding requirements.txt (default: $BUILD_WORKSPACE_DIRECTORY, set by bazel run)",
    )
    parser.add_argument("--upgrade", action="store_true", help="re-resolve every lock to the newest versions its sources allow")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--uv", type=Path, help="uv executable to run")
    source.add_argument("--uv-wheel", type=Path, help="uv wheel to take the uv executable from")
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point: returns the process exit status."""
    args = parse_args(argv)
    try:
        if args.workspace is None:
            raise UpdateError("no workspace: run it with bazel run, or pass --workspace")
        workspace = Path(args.workspace).resolve()
        sources = sorted({name for spec in lockcheck.LOCKS for name in spec.inputs})
        missing = [n for n in sources if not (workspace / n).is_file()]
        if missing:
            raise UpdateError("missing {} in {} (an empty file is fine)".format(", ".join(missing), workspace))
        with tempfile.TemporaryDirectory(prefix="uv.") as scratch:
            uv = extract_uv(args.uv_wheel.resolve(), Path(scratch)) if args.uv_wheel else args.uv
            written = update(uv, workspace, args.upgrade) + update_debian(workspace)
    except UpdateError as error:
        print(f"update.py: error: {error}", file=sys.stderr)
        return 1
    for name in written:
        print(f"update.py: wrote {workspace / name}")
    if not written:
        print("update.py: the locks are up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())

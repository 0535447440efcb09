"""Regenerates requirements_lock.txt from requirements.txt and requirements_override.txt.

Runs ``uv pip compile --generate-hashes`` for Python 3.11 on x86_64 manylinux, then
writes the lock with a first line recording the sha256 of its inputs, which
//python/requirements:lock_test compares. Run it as ``./bazelw run //:requirements.update``.
"""

import argparse
import os
import stat
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import List, Optional

import lockcheck

PYTHON_VERSION = "3.11"
PYTHON_PLATFORM = "x86_64-manylinux_2_28"


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


def compile_lock(uv: Path, workspace: Path) -> str:
    """Run ``uv pip compile`` in ``workspace`` and return the lock it prints."""
    command = [str(uv), "pip", "compile", "--quiet", "--no-config", "--system-certs"]
    command += ["--generate-hashes", "--override", lockcheck.OVERRIDE]
    command += ["--python-version", PYTHON_VERSION, "--python-platform", PYTHON_PLATFORM]
    command += ["--custom-compile-command", lockcheck.UPDATE_COMMAND, lockcheck.REQUIREMENTS]
    try:
        done = subprocess.run(command, cwd=str(workspace), stdout=subprocess.PIPE, check=False)
    except OSError as error:
        raise UpdateError(f"cannot run {uv}: {error}") from None
    if done.returncode != 0:
        raise UpdateError(f"uv pip compile failed (exit {done.returncode}); see its message above")
    return done.stdout.decode("utf-8")


def update(uv: Path, workspace: Path) -> None:
    """Write a fresh requirements_lock.txt into ``workspace`` and check it."""
    inputs = {name: (workspace / name).read_bytes() for name in lockcheck.INPUTS}
    lock = lockcheck.HEADER_PREFIX + lockcheck.inputs_sha256(inputs) + "\n" + compile_lock(uv, workspace)
    target = workspace / lockcheck.LOCK
    with tempfile.NamedTemporaryFile("w", dir=str(workspace), prefix=".lock.", delete=False) as out:
        out.write(lock)
    os.replace(out.name, str(target))
    problems = lockcheck.check_workspace(workspace)
    if problems:
        raise UpdateError("the new lock fails its check: " + "; ".join(problems))


def parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--workspace",
        type=Path,
        default=os.environ.get("BUILD_WORKSPACE_DIRECTORY"),
        help="folder holding requirements.txt (default: $BUILD_WORKSPACE_DIRECTORY, set by bazel run)",
    )
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
        missing = [n for n in lockcheck.INPUTS if not (workspace / n).is_file()]
        if missing:
            raise UpdateError("missing {} in {}".format(", ".join(missing), workspace))
        with tempfile.TemporaryDirectory(prefix="uv.") as scratch:
            uv = extract_uv(args.uv_wheel.resolve(), Path(scratch)) if args.uv_wheel else args.uv
            update(uv, workspace)
    except UpdateError as error:
        print(f"update.py: error: {error}", file=sys.stderr)
        return 1
    print(f"update.py: wrote {workspace / lockcheck.LOCK}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

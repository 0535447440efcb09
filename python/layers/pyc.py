"""Add precompiled bytecode to a layer tar.

For every .py in the input tar, writes __pycache__/<stem>.<cache tag>.pyc beside it:
unchecked hash-based (PEP 552), compiled under the absolute path the source has in the
image, so the image's Python never reads or rewrites a source it imports. The output
holds every input entry plus the new ones, sorted by name. Files listed in the --no-pyc
file (one "GLOB REASON" per line, GLOB matched against the in-image path) are left
without bytecode; any other source that does not compile fails the run.

Run it on the image's own interpreter (--python-version says which): bytecode is specific
to it.
"""

import argparse
import fnmatch
import posixpath
import py_compile
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Dict, List, Tuple

import tarout

CACHE_TAG = sys.implementation.cache_tag


class LayerError(Exception):
    """A problem with the input that the user has to fix; its message is one line."""


def check_interpreter(version: str) -> None:
    """Fail unless this is the image's CPython, of VERSION (MAJOR.MINOR)."""
    if sys.implementation.name != "cpython" or "%d.%d" % sys.version_info[:2] != version:
        raise LayerError(
            f"must run on the image's CPython {version}, not {sys.implementation.name} {sys.version.split()[0]}"
        )


def read_no_pyc(path: Path) -> List[Tuple[str, str]]:
    """Return the (glob, reason) pairs of a no-pyc list; '#' starts a comment line."""
    rules = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split(None, 1)
        if len(parts) != 2 or not parts[0].startswith("/"):
            raise LayerError(f"{path}:{number}: expected an absolute GLOB followed by a reason")
        rules.append((parts[0], parts[1].strip()))
    return rules


def resolve(entries: Dict[str, tarout.Entry], name: str) -> tarout.Entry:
    """Follow symbolic links inside the layer to the regular file name stands for."""
    for _ in range(40):
        entry = entries.get(name)
        if entry is None:
            raise LayerError(f"/{name}: not a file in this layer; list it in the no-pyc file")
        if entry.kind == tarout.FILE:
            return entry
        if entry.kind != tarout.LINK:
            raise LayerError(f"/{name}: not a regular file or link")
        base = "/" if entry.target.startswith("/") else posixpath.dirname(name)
        name = tarout.normalise(posixpath.normpath(posixpath.join("/", base, entry.target)))
    raise LayerError(f"/{name}: too many levels of links")


def compile_source(source: bytes, image_path: str, scratch: Path) -> bytes:
    """Return the unchecked hash-based pyc of source, compiled as if it were image_path."""
    src, pyc = scratch / "source.py", scratch / "source.pyc"
    src.write_bytes(source)
    py_compile.compile(
        str(src),
        cfile=str(pyc),
        dfile=image_path,
        doraise=True,
        optimize=0,
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
    )
    return pyc.read_bytes()


def add_bytecode(src: Path, out: Path, no_pyc: List[Tuple[str, str]]) -> None:
    """Write out: the entries of src plus a pyc for each source not listed in no_pyc."""
    entries = tarout.read_tar(str(src))
    failures = []
    with tempfile.TemporaryDirectory() as scratch:
        for name in sorted(entries):
            if not name.endswith(".py") or entries[name].kind == tarout.DIR:
                continue
            image_path = "/" + name
            if any(fnmatch.fnmatchcase(image_path, glob) for glob, _ in no_pyc):
                continue
            parent, stem = posixpath.split(name[: -len(".py")])
            cache_dir = posixpath.join(parent, "__pycache__")
            pyc_name = posixpath.join(cache_dir, f"{stem}.{CACHE_TAG}.pyc")
            if pyc_name in entries:
                raise LayerError(
                    f"/{pyc_name}: the input already has bytecode; layers must hold sources only"
                )
            try:
                pyc = compile_source(resolve(entries, name).data, image_path, Path(scratch))
            except py_compile.PyCompileError as error:
                failures.append(f"{image_path}: {error.exc_type_name}: {error.exc_value}")
                continue
            entries.setdefault(cache_dir, tarout.Entry(tarout.DIR))
            entries[pyc_name] = tarout.Entry(tarout.FILE, 0o644, data=pyc)
    if failures:
        raise LayerError(
            f"{len(failures)} source(s) do not compile on Python {sys.version.split()[0]}; fix them or list them "
            "in the no-pyc file: " + "; ".join(failures)
        )
    with open(out, "wb") as stream:
        tarout.write_tar(entries, stream)


def main() -> int:
    """Parse the command line and write the output tar."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--no-pyc", type=Path, required=True, help="file of 'GLOB REASON' lines")
    parser.add_argument("--python-version", required=True, help="the image's Python, MAJOR.MINOR")
    parser.add_argument("src", type=Path, help="input layer tar")
    parser.add_argument("out", type=Path, help="output layer tar")
    args = parser.parse_args()
    try:
        check_interpreter(args.python_version)
        add_bytecode(args.src, args.out, read_no_pyc(args.no_pyc))
    except (LayerError, OSError, tarfile.TarError, tarout.TarError) as error:
        print(f"pyc: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

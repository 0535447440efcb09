"""Runs a command (the pip run that builds or installs a locked requirement); if it fails
for want of a header, library or tool, names the Debian package that ships it, in one line.

Usage: build_hint.py COMMAND [ARGS...]
The command's output passes through unchanged. On failure its last output is searched
for a missing C header, library, pkg-config module or program; Debian's Contents index
of $DEBIAN_SUITE for $DEBIAN_ARCH at $DEBIAN_MIRROR (read only then) says which package ships it, and its
Packages index which run-time library that package depends on. The line names the
requirement (from pip's --requirement argument) and what to add to requirements_debian.txt.
"""

import gzip
import lzma
import os
import re
import subprocess
import sys
import threading
import urllib.request
from typing import BinaryIO, Iterable, List, NamedTuple, Optional

TAIL_BYTES = 256 * 1024
# The architecture built for and its library directory (set by python_build).
ARCH = os.environ.get("DEBIAN_ARCH", "amd64")
MULTIARCH = os.environ.get("DEBIAN_MULTIARCH", "x86_64-linux-gnu")
USER_FILE = "requirements_debian.txt"
UPDATE_COMMAND = "./bazelw run //:requirements.update"


class Missing(NamedTuple):
    """Something a build looked for and did not find: what it is and where Debian puts it."""

    what: str  # e.g. "the header libpq-fe.h"
    pattern: str  # a regular expression for the path in Debian's Contents index


_MISSING = [
    (re.compile(r"fatal error: ([\w./+-]+\.h): No such file or directory"),
     lambda m: Missing(f"the header {m[1]}", r"usr/include/(.*/)?" + re.escape(m[1]))),
    (re.compile(r"cannot find -l([\w.+-]+)"),
     lambda m: Missing(f"the library lib{m[1]}", rf"usr/lib/({MULTIARCH}/)?lib{re.escape(m[1])}\.(so|a)")),
    (re.compile(r"Package '?([\w.+-]+)'?,? (?:required by '[^']*', )?(?:was )?not found"),
     lambda m: Missing(f"the pkg-config module {m[1]}", rf"usr/(lib/{MULTIARCH}|share)/pkgconfig/{re.escape(m[1])}\.pc")),
    (re.compile(r"\b([\w.+-]+) executable not found|\b([\w.+-]+): (?:command )?not found|No such file or directory: '([\w.+-]+)'"),
     lambda m: Missing(f"the program {m[1] or m[2] or m[3]}", r"usr/s?bin/" + re.escape(m[1] or m[2] or m[3]))),
]


# A setup.py that tries pkg-config modules one after another (mysqlclient's) prints each
# failed `pkg-config --exists NAME` as Python's CalledProcessError, then a message naming none.
_PKG_CONFIG_TRIED = re.compile(r"Command '?pkg-config (?:--[\w-]+ )*([\w.+-]+)'? returned non-zero exit status")


def _modules_tried(output: str) -> Optional[Missing]:
    names = list(dict.fromkeys(_PKG_CONFIG_TRIED.findall(output)))
    if not names:
        return None
    either = ", ".join(names[:-1]) + " or " + names[-1] if len(names) > 1 else names[0]
    return Missing(f"the pkg-config module {either}",
                   rf"usr/(lib/{MULTIARCH}|share)/pkgconfig/({'|'.join(map(re.escape, names))})\.pc")


def find_missing(output: str) -> Optional[Missing]:
    """The first thing a failed build's output says it could not find (or, if it only
    tried pkg-config modules in turn, any of those)."""
    for line in output.splitlines():
        for pattern, make in _MISSING:
            match = pattern.search(line)
            if match:
                return make(match)
    return _modules_tried(output)


def requirement(argv: List[str]) -> str:
    """The requirement pip was asked for (rules_python passes --requirement 'NAME==V --hash...')."""
    for index, arg in enumerate(argv[:-1]):
        if arg == "--requirement":
            return argv[index + 1].split()[0]
    return "a requirement"


def _open(url: str) -> BinaryIO:
    return urllib.request.urlopen(url, timeout=60)  # noqa: S310 (the Debian mirror)


def shipping_packages(contents: Iterable[bytes], pattern: str) -> List[str]:
    """Packages whose Contents lines match PATTERN (a path), most specific (-dev) first."""
    path = re.compile(r"^(%s)\s+(\S+)$" % pattern)
    found: List[str] = []
    for raw in contents:
        match = path.match(raw.decode("utf-8", "replace").rstrip("\n"))
        if match:
            found += [entry.rsplit("/", 1)[-1] for entry in match[match.lastindex].split(",")]
    return sorted(set(found), key=lambda name: (not name.endswith("-dev"), name))


def runtime_libraries(packages_index: str, package: str) -> List[str]:
    """The shared-library packages (libNAME, not -dev) PACKAGE depends on."""
    for stanza in packages_index.split("\n\n"):
        if re.search(r"^Package: %s$" % re.escape(package), stanza, re.M):
            depends = re.search(r"^Depends: (.*)$", stanza, re.M)
            names = [d.split()[0] for d in depends[1].split(",")] if depends else []
            return [n for n in names if n.startswith("lib") and not n.endswith(("-dev", "-common"))]
    return []


def hint(output: str, argv: List[str], mirror: str, suite: str) -> Optional[str]:
    """The one line to print for a failed build, or None if nothing missing was recognised."""
    missing = find_missing(output)
    if missing is None:
        return None
    wanted = requirement(argv)
    start = f"error: {wanted} builds from source and needs {missing.what}"
    try:
        with _open(f"{mirror}/dists/{suite}/main/Contents-{ARCH}.gz") as response:
            packages = shipping_packages(gzip.GzipFile(fileobj=response), missing.pattern)
        with _open(f"{mirror}/dists/{suite}/main/binary-{ARCH}/Packages.xz") as response:
            libraries = runtime_libraries(lzma.decompress(response.read()).decode("utf-8"), packages[0]) if packages else []
    except OSError as error:
        return f"{start}: add the Debian -dev package that ships it to {USER_FILE} as 'build: PACKAGE' " \
               f"(could not search Debian's index: {error})"
    if not packages:
        return f"{start}, which no Debian package of {suite} ships: pick a version of {wanted} with a wheel"
    runtime = f" and 'image: {libraries[0]}' (the library it loads at run time)" if libraries else ""
    return f"{start}, which Debian's {packages[0]} ships: add 'build: {packages[0]}'{runtime} to {USER_FILE}, " \
           f"then run {UPDATE_COMMAND}"


def _copy(source: BinaryIO, target: BinaryIO, tail: bytearray) -> None:
    for chunk in iter(lambda: source.read1(65536), b""):  # type: ignore[attr-defined]
        target.write(chunk)
        target.flush()
        tail.extend(chunk)
        del tail[:-TAIL_BYTES]


def main(argv: List[str]) -> int:
    """Run the command, pass its output through, and add the hint line if it fails."""
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if argv else 2
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    tails = [bytearray(), bytearray()]
    copiers = [threading.Thread(target=_copy, args=(process.stdout, sys.stdout.buffer, tails[0])),
               threading.Thread(target=_copy, args=(process.stderr, sys.stderr.buffer, tails[1]))]
    for copier in copiers:
        copier.start()
    status = process.wait()
    for copier in copiers:
        copier.join()
    if status != 0:
        line = hint((tails[0] + tails[1]).decode("utf-8", "replace"), argv,
                    os.environ.get("DEBIAN_MIRROR", "").rstrip("/"), os.environ.get("DEBIAN_SUITE", ""))
        if line:
            print(line, file=sys.stderr, flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Copies every input the build downloads into a mirror of the team's own.

Usage: mirror.py --debian URL --security URL --pypi URL DIR   (./bazelw --mirror DIR)

Reads the locks MODULE.bazel names (its `debian_lock`, `user_debian_lock`,
`requirements_lock` and `meinheld_source` attributes) and writes into DIR
  debian/ARCHIVE/PATH           each locked .deb (ARCHIVE: the lock's `main` or `security`)
  pypi/simple/NAME/FILE         each wheel and source archive whose sha256 a lock holds
  pypi/simple/NAME/index.html   and pypi/simple/index.html: a PEP 503 simple index
fetched from the Debian archives and the PyPI index given, each file checked against its
sha256. Served over HTTP as BAZELW_MIRROR, it is where the build then gets them all.
Files already in DIR with the right sha256 are not fetched again, and files of earlier
locks stay and stay listed: a mirror grows with the locks, so an older commit still
builds from it.
"""

import argparse
import concurrent.futures
import hashlib
import html
import html.parser
import json
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Dict, Iterator, List, NamedTuple, Optional, Set, Tuple

WORKSPACE = Path(__file__).resolve().parent.parent
LABEL = re.compile(r'\b(debian_lock|user_debian_lock|requirements_lock|meinheld_source) = "//([^:"]*):([^"]+)"')
# A lock's entry: NAME[EXTRAS]==VERSION [; MARKER] \ and its --hash lines.
ENTRY = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)[^\\\n]*((?:\\\n\s+--hash=sha256:[0-9a-f]{64}[ \t]*)+)", re.M)
REQUIREMENT = re.compile(r"^[A-Za-z0-9]", re.M)
CHUNK = 1 << 20


class MirrorError(Exception):
    """An input cannot be mirrored: one line saying why."""


class File(NamedTuple):
    """One file for the mirror: where it goes, where it comes from, its sha256."""

    dest: str
    urls: Tuple[str, ...]
    sha256: str


def normalized(name: str) -> str:
    """A project's name as PEP 503 spells it in index URLs."""
    return re.sub(r"[-_.]+", "-", name).lower()


def locks(module: str) -> Dict[str, List[Path]]:
    """The lock files MODULE.bazel's text names, by attribute."""
    found: Dict[str, List[Path]] = {}
    for attribute, package, name in LABEL.findall(module):
        path = WORKSPACE / package / name
        if path not in found.setdefault(attribute, []):
            found[attribute].append(path)
    return found


def debian_files(lock: dict, archives: Dict[str, str]) -> Iterator[File]:
    """The .debs of one Debian lock, from ARCHIVES (lock's archive name -> URL)."""
    for packages in lock["packages"].values():
        for package in packages:
            archive = package["archive"]
            bases = [archives[archive], lock.get("snapshots", {}).get(archive, "")]
            urls = tuple("%s/%s" % (base.rstrip("/"), package["path"]) for base in bases if base)
            yield File("debian/%s/%s" % (archive, package["path"]), urls, package["sha256"])


def python_entries(paths: Dict[str, List[Path]]) -> Iterator[Tuple[str, str, Set[str]]]:
    """(name, version, sha256s) of every locked Python package and source archive."""
    for path in paths.get("requirements_lock", []):
        text = path.read_text()
        entries = ENTRY.findall(text)
        if len(entries) != len(REQUIREMENT.findall(text)):
            raise MirrorError("%s: every requirement must be NAME==VERSION with its --hash lines" % path)
        for name, version, hashes in entries:
            yield name, version, set(re.findall(r"[0-9a-f]{64}", hashes))
    for path in paths.get("meinheld_source", []):
        source = json.loads(path.read_text())
        yield source["name"], source["version"], {source["sha256"]}


class Links(html.parser.HTMLParser):
    """The anchors of a PEP 503 project page: (file name, URL, sha256 from the fragment)."""

    def __init__(self, base: str) -> None:
        super().__init__()
        self.base = base
        self.links: List[Tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: List[Tuple[str, Optional[str]]]) -> None:
        """Keeps each anchor's target."""
        href = dict(attrs).get("href")
        if tag == "a" and href:
            url, _, fragment = urllib.parse.urljoin(self.base, href).partition("#")
            sha256 = fragment[len("sha256="):] if fragment.startswith("sha256=") else ""
            self.links.append((urllib.parse.unquote(url.rsplit("/", 1)[-1]), url, sha256))


def fetch(url: str) -> bytes:
    """The body at URL."""
    request = urllib.request.Request(url, headers={"Accept": "text/html"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.read()
    except (urllib.error.URLError, OSError) as error:
        raise MirrorError("cannot read %s: %s" % (url, getattr(error, "reason", error))) from None


def python_files(index: str, name: str, version: str, hashes: Set[str]) -> List[File]:
    """The files of NAME==VERSION the index has whose sha256 is one of HASHES (all must be)."""
    page = "%s/%s/" % (index.rstrip("/"), normalized(name))
    links = Links(page)
    links.feed(fetch(page).decode("utf-8", "replace"))
    chosen = [File("pypi/simple/%s/%s" % (normalized(name), file), (url,), sha256)
              for file, url, sha256 in links.links if sha256 in hashes]
    missing = hashes - {f.sha256 for f in chosen}
    if missing:
        raise MirrorError("%s==%s: %s has no file with sha256 %s" % (name, version, page, sorted(missing)[0]))
    return chosen


def sha256_of(path: Path) -> str:
    """The sha256 of a file's content."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def download(out: Path, file: File) -> bool:
    """Puts FILE into OUT unless it is there; True if it was fetched."""
    dest = out / file.dest
    if dest.is_file() and sha256_of(dest) == file.sha256:
        return False
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(dest.name + ".partial")
    errors = []
    for url in file.urls:
        try:
            digest = hashlib.sha256()
            with urllib.request.urlopen(url, timeout=120) as response, partial.open("wb") as stream:
                for chunk in iter(lambda: response.read(CHUNK), b""):
                    digest.update(chunk)
                    stream.write(chunk)
        except (urllib.error.URLError, OSError) as error:
            errors.append("%s: %s" % (url, getattr(error, "reason", error)))
            continue
        if digest.hexdigest() != file.sha256:
            errors.append("%s: sha256 %s, the lock says %s" % (url, digest.hexdigest(), file.sha256))
            continue
        partial.replace(dest)
        return True
    partial.unlink(missing_ok=True)
    raise MirrorError("cannot mirror %s: %s" % (file.dest, "; ".join(errors)))


def write_index(simple: Path) -> None:
    """Writes the PEP 503 pages of every project in SIMPLE, listing every file there."""
    projects = sorted(p for p in simple.iterdir() if p.is_dir())
    for project in projects:
        files = sorted(f for f in project.iterdir() if f.is_file() and f.name != "index.html" and not f.name.endswith(".partial"))
        anchors = "".join('<a href="%s#sha256=%s">%s</a><br>\n' % (urllib.parse.quote(f.name), sha256_of(f), html.escape(f.name))
                          for f in files)
        (project / "index.html").write_text("<!DOCTYPE html>\n<html><body>\n%s</body></html>\n" % anchors)
    anchors = "".join('<a href="%s/">%s</a><br>\n' % (p.name, p.name) for p in projects)
    (simple / "index.html").write_text("<!DOCTYPE html>\n<html><body>\n%s</body></html>\n" % anchors)


def main(argv: List[str]) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(prog="./bazelw --mirror", description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--debian", required=True, help="Debian's archive (the lock's `main`)")
    parser.add_argument("--security", required=True, help="Debian's security archive (the lock's `security`)")
    parser.add_argument("--pypi", required=True, help="a PEP 503 simple index, e.g. https://pypi.org/simple")
    parser.add_argument("dir", type=Path, help="the mirror: made if absent, added to if not")
    args = parser.parse_args(argv)
    try:
        paths = locks((WORKSPACE / "MODULE.bazel").read_text())
        archives = {"main": args.debian, "security": args.security}
        files: Dict[str, File] = {}
        for path in paths.get("debian_lock", []) + paths.get("user_debian_lock", []):
            files.update((f.dest, f) for f in debian_files(json.loads(path.read_text()), archives))
        entries = sorted(set((n, v, frozenset(h)) for n, v, h in python_entries(paths)))
        for index, (name, version, hashes) in enumerate(entries):
            print("mirror: reading the index for %s==%s (%d of %d)" % (name, version, index + 1, len(entries)), flush=True)
            files.update((f.dest, f) for f in python_files(args.pypi, name, version, set(hashes)))
        fetched = 0
        with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
            for done, was_fetched in enumerate(pool.map(lambda f: download(args.dir, f), sorted(files.values()))):
                fetched += was_fetched
                if (done + 1) % 25 == 0 or done + 1 == len(files):
                    print("mirror: %d of %d files (%d fetched)" % (done + 1, len(files), fetched), flush=True)
        write_index(args.dir / "pypi" / "simple")
    except MirrorError as error:
        print("mirror: %s" % error, file=sys.stderr)
        return 1
    print("mirror: %s holds every locked input; serve it over HTTP and set BAZELW_MIRROR to its URL" % args.dir)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Checks that every ELF file in an image can be loaded by the image itself.

Given the image's layers in order (tar files or directories; later layers win, OCI
whiteouts honoured), for every ELF executable and shared object it checks that:
  * it is built for the image's architecture (--architecture, its ELF machine type);
  * its interpreter (PT_INTERP) resolves to a file inside the image;
  * every DT_NEEDED library is found inside the image (DT_RPATH, DT_RUNPATH with
    $ORIGIN, then the loader's default directories);
  * every symbol version it needs (DT_VERNEED, e.g. GLIBC_2.38 from libc.so.6) is
    defined by the library found.
It prints one line per problem and exits 1 if there is any; --report prints, per
library, the newest version any file needs from it (e.g. libc.so.6 GLIBC_2.34).
A problem names the Python distribution that installed the file (from the
*.dist-info/RECORD files in the image) and the symbols a missing version is needed for;
for a missing library, the --deb packages (e.g. every locked .deb) that ship it.
"""

import argparse
import csv
import io
import os
import posixpath
import re
import sys
import tarfile
from email.parser import HeaderParser
from dataclasses import dataclass
from typing import Callable, Dict, Iterator, List, Optional, Tuple

from debfile import DebError, read_deb
from elf import ARCHITECTURES, Architecture, ElfError, ElfInfo, is_elf, parse

USER_FILE = "requirements_debian.txt"
UPDATE_COMMAND = "./bazelw run //:requirements.update"
MAX_LINKS = 40


class CheckError(Exception):
    """Bad input, reported as one line."""


@dataclass
class Node:
    """A path of the merged image: a directory, a file (read lazily) or a link."""

    kind: str
    read: Optional[Callable[[], bytes]] = None
    target: str = ""


class Image:
    """The merged file system of an image's layers."""

    def __init__(self) -> None:
        self.nodes: Dict[str, Node] = {"/": Node("dir")}

    def _remove(self, path: str) -> None:
        for name in [n for n in self.nodes if n == path or n.startswith(path + "/")]:
            del self.nodes[name]

    def _put(self, path: str, node: Node) -> None:
        head, base = posixpath.split(path)
        if base.startswith(".wh."):
            if base == ".wh..wh..opq":
                self._remove_children(head)
            else:
                self._remove(posixpath.join(head, base[4:]))
            return
        if node.kind != "dir" or self.nodes.get(path, Node("")).kind != "dir":
            self._remove(path)
        self.nodes[path] = node

    def _remove_children(self, path: str) -> None:
        for name in [n for n in self.nodes if n.startswith(path.rstrip("/") + "/")]:
            del self.nodes[name]

    def add_tar(self, path: str) -> None:
        """Adds a tar layer."""
        archive = tarfile.open(path)
        for info in archive:
            name = "/" + posixpath.normpath(info.name).lstrip("./")
            if name == "/.":
                continue
            if info.isdir():
                self._put(name, Node("dir"))
            elif info.issym():
                self._put(name, Node("link", target=info.linkname))
            elif info.islnk():
                source = archive.getmember(info.linkname)
                self._put(name, Node("file", read=lambda s=source: archive.extractfile(s).read()))
            elif info.isfile():
                self._put(name, Node("file", read=lambda i=info: archive.extractfile(i).read()))

    def add_tree(self, root: str) -> None:
        """Adds a directory as a layer."""
        for current, dirs, files in os.walk(root):
            rel = "/" + os.path.relpath(current, root).lstrip(".")
            for name in sorted(dirs + files):
                full = os.path.join(current, name)
                path = posixpath.join(rel, name)
                if os.path.islink(full):
                    self._put(path, Node("link", target=os.readlink(full)))
                elif os.path.isdir(full):
                    self._put(path, Node("dir"))
                elif os.path.isfile(full):
                    self._put(path, Node("file", read=lambda f=full: open(f, "rb").read()))

    def resolve(self, path: str, follow_last: bool = True) -> Optional[str]:
        """Returns the path with every link resolved inside the image, or None if it dangles."""
        parts = [p for p in path.split("/") if p]
        resolved = "/"
        hops = 0
        while parts:
            part = parts.pop(0)
            if part == ".":
                continue
            if part == "..":
                resolved = posixpath.dirname(resolved)
                continue
            candidate = posixpath.join(resolved, part)
            node = self.nodes.get(candidate)
            if node is None:
                return None
            if node.kind == "link" and (parts or follow_last):
                hops += 1
                if hops > MAX_LINKS:
                    return None
                base = "/" if node.target.startswith("/") else resolved
                parts = [p for p in posixpath.join(base, node.target).split("/") if p] + parts
                resolved = "/"
                continue
            resolved = candidate
        return resolved

    def file(self, path: str) -> Optional[str]:
        """Returns the resolved path if path names a regular file inside the image."""
        resolved = self.resolve(path)
        return resolved if resolved and self.nodes[resolved].kind == "file" else None


def distribution_owners(image: Image) -> Dict[str, str]:
    """Image path -> "NAME VERSION" of the Python distribution whose RECORD lists it."""
    owners: Dict[str, str] = {}
    for path in sorted(image.nodes):
        if not path.endswith(".dist-info/RECORD") or image.nodes[path].kind != "file":
            continue
        directory = posixpath.dirname(path)
        metadata = image.file(directory + "/METADATA")
        fields = HeaderParser().parsestr(image.nodes[metadata].read().decode("utf-8", "replace")) if metadata else {}
        owner = "%s %s" % (fields.get("Name", posixpath.basename(directory)), fields.get("Version", "?"))
        for row in csv.reader(io.StringIO(image.nodes[path].read().decode("utf-8", "replace"))):
            if row:
                owners[posixpath.normpath(posixpath.join(posixpath.dirname(directory), row[0]))] = owner
    return owners


def shipping_debs(debs: List[str], library: str, arch: Architecture) -> List[str]:
    """Names of the packages among DEBS (paths of .deb files) that ship LIBRARY in a library directory."""
    found = []
    dirs = arch.library_dirs()
    for path in debs:
        deb = read_deb(path)
        for info, _ in deb.members():
            name = "/" + info.name.lstrip("./")
            if posixpath.basename(name) == library and posixpath.dirname(name) in dirs:
                found.append(deb.name)
                break
    return sorted(set(found))


@dataclass
class Report:
    """Problems found, and the newest version needed per library."""

    problems: List[str]
    newest: Dict[str, str]
    checked: int


NUMBERED = re.compile(r"^(.*?_)(\d+(?:\.\d+)*)$")


def version_key(version: str) -> Tuple[int, str, Tuple[int, ...]]:
    """Orders versions numerically (GLIBC_2.9 < GLIBC_2.36); names that are not a family and a
    number (GLIBC_PRIVATE, GLIBC_ABI_GNU2_TLS) sort first."""
    numbered = NUMBERED.match(version)
    if not numbered:
        return (0, version, ())
    return (1, numbered.group(1), tuple(int(n) for n in numbered.group(2).split(".")))


def family(version: str) -> str:
    """The family of a numbered version (GLIBC_ for GLIBC_2.41), or the whole name."""
    numbered = NUMBERED.match(version)
    return numbered.group(1) if numbered else version


def elf_files(image: Image) -> Iterator[Tuple[str, ElfInfo]]:
    """Yields every ELF file of the image (not links to one) with its parsed header."""
    for path in sorted(image.nodes):
        node = image.nodes[path]
        if node.kind != "file":
            continue
        data = node.read()
        if not is_elf(data):
            continue
        try:
            yield path, parse(data)
        except (ElfError, ValueError) as error:
            yield path, ElfInfo(machine=-1, soname=str(error))


class Checker:
    """Resolves libraries the way the dynamic loader would, inside one image."""

    def __init__(self, image: Image, arch: Architecture) -> None:
        self.image = image
        self.arch = arch
        self.cache: Dict[str, Optional[ElfInfo]] = {}

    def info(self, path: str) -> Optional[ElfInfo]:
        """Returns the parsed ELF header of a resolved file path (cached)."""
        if path not in self.cache:
            data = self.image.nodes[path].read()
            try:
                self.cache[path] = parse(data) if is_elf(data) else None
            except (ElfError, ValueError):
                self.cache[path] = None
        return self.cache[path]

    def find(self, name: str, origin: str, info: ElfInfo) -> Optional[str]:
        """Returns the resolved path the loader would use for DT_NEEDED name."""
        if "/" in name:
            return self.image.file(name)
        dirs = ([] if info.runpath else info.rpath) + info.runpath + list(self.arch.library_dirs())
        for directory in dirs:
            directory = directory.replace("${ORIGIN}", origin).replace("$ORIGIN", origin)
            found = self.image.file(posixpath.join(directory, name))
            if found:
                library = self.info(found)
                if library is not None and library.machine == self.arch.machine:
                    return found
        return None

    def check(self, path: str, info: ElfInfo) -> Tuple[List[str], List[Tuple[str, str]]]:
        """Returns one file's problems and the (library, version) pairs it needs."""
        if info.machine != self.arch.machine:
            return ["%s: not an %s ELF object (%s)" % (path, self.arch.name, info.soname or "machine %d" % info.machine)], []
        problems = []
        if info.interpreter and not self.image.file(info.interpreter):
            problems.append("%s: interpreter %s is not in the image" % (path, info.interpreter))
        found = {}
        for name in info.needed:
            library = self.find(name, posixpath.dirname(path), info)
            if library is None:
                problems.append("%s: needs %s, which is not in the image" % (path, name))
            else:
                found[name] = library
        needs = []
        for library_name, version, weak in info.version_needs:
            needs.append((library_name, version))
            library = found.get(library_name)
            if library is None or weak:
                continue
            defined = self.info(library).version_defs
            if version not in defined:
                newest = max((v for v in defined if family(v) == family(version)), key=version_key, default="none")
                symbols = info.version_symbols.get(version, [])
                used = " (for %s)" % ", ".join(sorted(symbols)[:3] + (["..."] if len(symbols) > 3 else [])) if symbols else ""
                problems.append("%s: needs %s from %s%s, which provides up to %s" % (path, version, library_name, used, newest))
        return problems, needs


def check_image(image: Image, prefixes: List[str], debs: Optional[List[str]] = None,
                arch: Architecture = ARCHITECTURES["amd64"]) -> Report:
    """Checks every ELF file of image (only below prefixes, if given) against arch; DEBS:
    .deb files to name the package that ships a missing library."""
    checker = Checker(image, arch)
    owners = distribution_owners(image)
    problems: List[str] = []
    newest: Dict[str, str] = {}
    checked = 0
    for path, info in elf_files(image):
        if prefixes and not any(path == p or path.startswith(p.rstrip("/") + "/") for p in prefixes):
            continue
        checked += 1
        checker.cache[path] = info
        found, needs = checker.check(path, info)
        owner = " (%s)" % owners[path] if path in owners else ""
        problems.extend(explain(problem.replace(path + ":", path + owner + ":", 1), debs or [], owner, arch)
                        for problem in found)
        for library, version in needs:
            if library not in newest or version_key(version) > version_key(newest[library]):
                newest[library] = version
    return Report(problems, newest, checked)


def explain(problem: str, debs: List[str], owner: str, arch: Architecture) -> str:
    """PROBLEM with what to do about it, where that is known."""
    missing = re.search(r": needs (\S+), which is not in the image$", problem)
    if missing:
        packages = shipping_debs(debs, missing.group(1), arch)
        if packages:
            return "%s; Debian's %s ships it: add 'image: %s' to %s, then run %s" % (
                problem, " or ".join(packages), packages[0], USER_FILE, UPDATE_COMMAND)
    elif owner and " which provides up to " in problem:
        return "%s; the wheel needs a newer system than the image: pin another version of %s in requirements.txt" % (
            problem, owner.strip(" ()").rsplit(" ", 1)[0])
    return problem


def load(layers: List[str]) -> Image:
    """Merges layers (tar files or directories) in order."""
    image = Image()
    for layer in layers:
        if os.path.isdir(layer):
            image.add_tree(layer)
        elif os.path.isfile(layer):
            try:
                image.add_tar(layer)
            except tarfile.TarError as error:
                raise CheckError("%s: %s" % (layer, error)) from None
        else:
            raise CheckError("no such layer: %s" % layer)
    return image


def main(argv: List[str]) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog=__doc__.split("\n", 2)[2], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("layers", nargs="+", help="the image's layers, bottom first: tar files or directories")
    parser.add_argument("--only", action="append", default=[], metavar="PATH", help="check only ELF files below PATH (e.g. /usr/lib/python3/dist-packages); libraries still resolve in the whole image")
    parser.add_argument("--architecture", choices=sorted(ARCHITECTURES), default="amd64", help="the image's Debian architecture (default: %(default)s)")
    parser.add_argument("--report", action="store_true", help="print the newest version needed from each library")
    parser.add_argument("--deb", action="extend", nargs="+", default=[], help=".deb files that may ship a missing library (to name it)")
    args = parser.parse_args(argv)
    try:
        report = check_image(load(args.layers), args.only, args.deb, ARCHITECTURES[args.architecture])
    except (CheckError, DebError, OSError) as error:
        print("abi_check: %s" % error, file=sys.stderr)
        return 1
    for problem in report.problems:
        print("abi_check: %s" % problem, file=sys.stderr)
    if args.report:
        for library, version in sorted(report.newest.items()):
            print("%s %s" % (library, version))
    print("abi_check: %d ELF files, %d problems" % (report.checked, len(report.problems)), file=sys.stderr)
    return 1 if report.problems or not report.checked else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

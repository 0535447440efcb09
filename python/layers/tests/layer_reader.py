"""Reads layer tars for the tests: members by normalised name, links followed."""

import fnmatch
import posixpath
import tarfile
from pathlib import Path
from typing import Dict, List, Tuple

NO_PYC_FILE = "python/layers/no_pyc.txt"


def normalise(name: str) -> str:
    """Return a member name without "./", leading or trailing "/"."""
    return (name[2:] if name.startswith("./") else name).strip("/")


class Layer:
    """The members and regular-file contents of one layer tar."""

    def __init__(self, path: str) -> None:
        self.path = path
        with tarfile.open(path) as tar:
            self.infos: List[tarfile.TarInfo] = tar.getmembers()
            self.data: Dict[str, bytes] = {
                normalise(i.name): tar.extractfile(i).read() for i in self.infos if i.isreg()
            }
        self.members = {normalise(i.name): i for i in self.infos}

    def read(self, name: str) -> bytes:
        """Return the contents of name, following symbolic and hard links within the layer."""
        for _ in range(40):
            info = self.members[name]
            if info.isreg():
                return self.data[name]
            if info.issym():
                base = "/" if info.linkname.startswith("/") else posixpath.dirname(name)
                name = normalise(posixpath.normpath(posixpath.join("/", base, info.linkname)))
            else:
                name = normalise(info.linkname)
        raise AssertionError(f"{name}: link loop")


def read_no_pyc(path: Path) -> List[Tuple[str, str]]:
    """Return the (glob, reason) lines of the no-pyc list."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [tuple(l.split(None, 1)) for l in lines if l.strip() and not l.lstrip().startswith("#")]


def exempt(image_path: str, rules: List[Tuple[str, str]]) -> bool:
    """Return whether the no-pyc list leaves image_path without bytecode."""
    return any(fnmatch.fnmatchcase(image_path, glob) for glob, _ in rules)

"""Writes reproducible, uncompressed tar layers: sorted entries, fixed owner, mtime and modes.

The one tar writer of the project: the Debian base and accounts layers (debian/tools)
and the Python layers and their bytecode step (python/layers) all write through it.
"""

import io
import posixpath
import tarfile
from dataclasses import dataclass
from typing import BinaryIO, Dict

DIR = "dir"
FILE = "file"
LINK = "symlink"


class TarError(ValueError):
    """A member this writer cannot hold (a hard link, a device); the message is one line."""


@dataclass
class Entry:
    """One path of a layer: a directory, a regular file or a symbolic link."""

    kind: str
    mode: int = 0o755
    data: bytes = b""
    target: str = ""
    uid: int = 0
    gid: int = 0


def normalise(name: str) -> str:
    """A member name without a leading "./" or "/" and without a trailing "/"."""
    if name.startswith("./"):
        name = name[2:]
    return name.strip("/")


def normal_mode(kind: str, mode: int) -> int:
    """Returns the layer's mode for a path: dirs 0755 (1777 if sticky), files 0644 or 0755.

    setuid and setgid bits are always dropped; a file keeps only "executable or not".
    """
    if kind == DIR:
        return 0o1777 if mode & 0o1000 else 0o755
    if kind == LINK:
        return 0o777
    return 0o755 if mode & 0o111 else 0o644


def from_member(info: tarfile.TarInfo, data: bytes) -> Entry:
    """A tar member (with its contents, for a file) as an Entry, keeping mode and owner."""
    if info.isdir():
        return Entry(DIR, info.mode, uid=info.uid, gid=info.gid)
    if info.issym():
        return Entry(LINK, 0o777, target=info.linkname, uid=info.uid, gid=info.gid)
    if info.isreg():
        return Entry(FILE, info.mode, data=data, uid=info.uid, gid=info.gid)
    raise TarError("%s: only directories, files and symbolic links can be in a layer" % info.name)


def read_tar(source: str) -> Dict[str, Entry]:
    """The entries of the tar file SOURCE, by normalised name."""
    entries: Dict[str, Entry] = {}
    with tarfile.open(source) as archive:
        for info in archive:
            data = archive.extractfile(info).read() if info.isreg() else b""
            entries[normalise(info.name)] = from_member(info, data)
    entries.pop("", None)  # "./" itself
    return entries


def add_parents(entries: Dict[str, Entry]) -> None:
    """Adds a root-owned 0755 directory entry for every missing parent of every path."""
    for path in list(entries):
        parent = posixpath.dirname(path)
        while parent and parent not in entries:
            entries[parent] = Entry(DIR)
            parent = posixpath.dirname(parent)


def write_tar(entries: Dict[str, Entry], out: BinaryIO) -> None:
    """Writes entries (relative paths, no leading "/") as a POSIX (pax) tar, sorted by name
    (so parents come before their children), with mtime 0 and no user or group names."""
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT, encoding="utf-8") as archive:
        for path in sorted(entries):
            entry = entries[path]
            info = tarfile.TarInfo(path)
            info.mtime = 0
            info.uid, info.gid = entry.uid, entry.gid
            info.uname = info.gname = ""
            info.mode = entry.mode
            if entry.kind == DIR:
                info.type = tarfile.DIRTYPE
                archive.addfile(info)
            elif entry.kind == LINK:
                info.type = tarfile.SYMTYPE
                info.linkname = entry.target
                archive.addfile(info)
            else:
                info.size = len(entry.data)
                archive.addfile(info, io.BytesIO(entry.data))

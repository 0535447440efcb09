"""Writes reproducible, uncompressed tar layers: sorted entries, fixed owner, mtime and modes."""

import io
import tarfile
from dataclasses import dataclass
from typing import BinaryIO, Dict

DIR = "dir"
FILE = "file"
LINK = "symlink"


@dataclass
class Entry:
    """One path of a layer: a directory, a regular file or a symbolic link."""

    kind: str
    mode: int = 0o755
    data: bytes = b""
    target: str = ""
    uid: int = 0
    gid: int = 0


def normal_mode(kind: str, mode: int) -> int:
    """Returns the layer's mode for a path: dirs 0755 (1777 if sticky), files 0644 or 0755.

    setuid and setgid bits are always dropped; a file keeps only "executable or not".
    """
    if kind == DIR:
        return 0o1777 if mode & 0o1000 else 0o755
    if kind == LINK:
        return 0o777
    return 0o755 if mode & 0o111 else 0o644


def add_parents(entries: Dict[str, Entry]) -> None:
    """Adds a root-owned 0755 directory entry for every missing parent of every path."""
    for path in list(entries):
        parts = path.split("/")
        for depth in range(1, len(parts)):
            entries.setdefault("/".join(parts[:depth]), Entry(DIR))


def write_tar(entries: Dict[str, Entry], out: BinaryIO) -> None:
    """Writes entries (relative paths, no leading "/") as a GNU tar, parents before children."""
    with tarfile.open(fileobj=out, mode="w", format=tarfile.GNU_FORMAT, encoding="utf-8") as archive:
        for path in sorted(entries, key=lambda p: p.split("/")):
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



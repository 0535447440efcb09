"""Normalised tar entries shared by the layer tools: owner 0:0, mtime 0, fixed modes."""

import io
import tarfile
from typing import Iterable, Optional, Tuple

DIR_MODE = 0o755
FILE_MODE = 0o644

# One tar entry: its header and, for a regular file, its contents.
Entry = Tuple[tarfile.TarInfo, Optional[bytes]]


def normalise(name: str) -> str:
    """Return a member name without a leading "./" or "/" and without a trailing "/"."""
    if name.startswith("./"):
        name = name[2:]
    return name.strip("/")


def dir_entry(name: str) -> Entry:
    """Return a directory entry owned by 0:0 with mtime 0 and mode 0755."""
    info = tarfile.TarInfo(name)
    info.type = tarfile.DIRTYPE
    info.mode = DIR_MODE
    return info, None


def file_entry(name: str, data: bytes) -> Entry:
    """Return a regular file entry owned by 0:0 with mtime 0 and mode 0644."""
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = FILE_MODE
    return info, data


def write_tar(path: str, entries: Iterable[Entry]) -> None:
    """Write entries, sorted by normalised name, to a POSIX (pax) tar at path.

    Raises ValueError if a hard link would come before the entry it links to.
    """
    ordered = sorted(entries, key=lambda entry: normalise(entry[0].name))
    written = set()
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in ordered:
            if info.islnk() and normalise(info.linkname) not in written:
                raise ValueError(f"hard link {info.name} sorts before its target {info.linkname}")
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
            written.add(normalise(info.name))

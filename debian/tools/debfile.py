"""Reads Debian binary packages (.deb): the ar archive, its control fields and its data tar.

Standard library only: a .deb is an `ar` archive holding `debian-binary`,
`control.tar.*` and `data.tar.*`; Debian compresses both with xz.
"""

import io
import tarfile
from dataclasses import dataclass
from typing import Dict, Iterator, List, Tuple

AR_MAGIC = b"!<arch>\n"


class DebError(Exception):
    """A malformed or unsupported .deb, reported as one line."""


def ar_members(data: bytes) -> Dict[str, bytes]:
    """Returns the members of an ar archive by name."""
    if not data.startswith(AR_MAGIC):
        raise DebError("not an ar archive")
    members: Dict[str, bytes] = {}
    offset = len(AR_MAGIC)
    while offset < len(data):
        header = data[offset:offset + 60]
        if len(header) < 60 or header[58:60] != b"`\n":
            raise DebError("truncated ar header at byte %d" % offset)
        name = header[0:16].decode().strip().rstrip("/")
        size = int(header[48:58].decode().strip())
        start = offset + 60
        members[name] = data[start:start + size]
        offset = start + size + (size % 2)
    return members


def _open_tar(name: str, blob: bytes) -> tarfile.TarFile:
    """Opens a (possibly compressed) tar member of a .deb."""
    if name.endswith(".zst"):
        raise DebError("%s is zstd-compressed, which Python's standard library cannot read" % name)
    return tarfile.open(fileobj=io.BytesIO(blob), mode="r:*")


def _member(members: Dict[str, bytes], prefix: str) -> Tuple[str, bytes]:
    """Returns the single member whose name starts with prefix."""
    found = [(name, blob) for name, blob in members.items() if name.startswith(prefix)]
    if len(found) != 1:
        raise DebError("expected one %s* member, found %d" % (prefix, len(found)))
    return found[0]


def parse_control(text: str) -> List[Tuple[str, str]]:
    """Parses one control stanza into ordered (field, value) pairs; continuation lines kept."""
    fields: List[Tuple[str, str]] = []
    for line in text.splitlines():
        if line.startswith((" ", "\t")) and fields:
            key, value = fields[-1]
            fields[-1] = (key, value + "\n" + line)
        elif line.strip():
            key, _, value = line.partition(":")
            fields.append((key, value.strip()))
    return fields


@dataclass
class Deb:
    """One Debian package: its control stanza and its data archive's bytes."""

    control: List[Tuple[str, str]]
    data_name: str
    data: bytes

    @property
    def name(self) -> str:
        """The package name (control field Package)."""
        return self.field("Package")

    def field(self, key: str) -> str:
        """Returns a control field's value, or "" if the package has none."""
        return next((value for name, value in self.control if name.lower() == key.lower()), "")

    def members(self) -> Iterator[Tuple[tarfile.TarInfo, bytes]]:
        """Yields every data.tar member with its content (b"" for non-files)."""
        with _open_tar(self.data_name, self.data) as archive:
            for info in archive:
                content = archive.extractfile(info).read() if info.isfile() else b""
                yield info, content


def read_deb(path: str) -> Deb:
    """Reads the .deb at path."""
    try:
        with open(path, "rb") as handle:
            members = ar_members(handle.read())
        control_name, control_blob = _member(members, "control.tar")
        with _open_tar(control_name, control_blob) as archive:
            control = next((archive.extractfile(m).read() for m in archive if m.name.lstrip("./") == "control"), None)
        if control is None:
            raise DebError("no control file")
        data_name, data = _member(members, "data.tar")
    except (DebError, tarfile.TarError, ValueError, OSError) as error:
        raise DebError("%s: %s" % (path, error)) from None
    return Deb(parse_control(control.decode()), data_name, data)

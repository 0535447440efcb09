"""A small ELF64 little-endian reader: interpreter, needed libraries, symbol versions.

Reads what the dynamic loader reads: PT_INTERP, and from PT_DYNAMIC the DT_NEEDED,
DT_SONAME, DT_RPATH/DT_RUNPATH strings, the version needs (DT_VERNEED: which library
must define which version, e.g. libc.so.6 GLIBC_2.38) and the version definitions
(DT_VERDEF: what a library itself provides); and, from the section headers when the
file has them, which undefined symbols need each version (.dynsym with .gnu.version).
"""

import struct
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Set, Tuple

from architectures import TABLE

MAGIC = b"\x7fELF"


@dataclass(frozen=True)
class Architecture:
    """A Debian architecture: its ELF machine type, its CPU's name (uname -m) and its multiarch
    library directory."""

    machine: int
    name: str
    triplet: str

    def library_dirs(self) -> Tuple[str, ...]:
        """The dynamic loader's default directories, merged /usr included."""
        return ("/lib/" + self.triplet, "/usr/lib/" + self.triplet, "/lib", "/usr/lib", "/lib64", "/usr/lib64")


# Debian's architecture names (debian/architectures.bzl), as in debian/packages.json.
ARCHITECTURES = {name: Architecture(a["elf_machine"], a["machine"], a["triplet"]) for name, a in TABLE.items()}
PT_LOAD, PT_DYNAMIC, PT_INTERP = 1, 2, 3
DT_NEEDED, DT_STRTAB, DT_STRSZ, DT_SONAME, DT_RPATH, DT_RUNPATH = 1, 5, 10, 14, 15, 29
DT_VERDEF, DT_VERDEFNUM, DT_VERNEED, DT_VERNEEDNUM = 0x6FFFFFFC, 0x6FFFFFFD, 0x6FFFFFFE, 0x6FFFFFFF
SHT_DYNSYM, SHT_GNU_VERSYM = 11, 0x6FFFFFFF
VER_FLG_WEAK = 2


class ElfError(Exception):
    """A file that is not a well-formed little-endian ELF64 object."""


@dataclass
class ElfInfo:
    """What the dynamic loader needs to know about one ELF object."""

    machine: int
    interpreter: Optional[str] = None
    soname: Optional[str] = None
    needed: List[str] = field(default_factory=list)
    rpath: List[str] = field(default_factory=list)
    runpath: List[str] = field(default_factory=list)
    # (library file name, version name, weak) per DT_VERNEED entry
    version_needs: List[Tuple[str, str, bool]] = field(default_factory=list)
    version_defs: Set[str] = field(default_factory=set)
    # version name -> the undefined symbols bound to it (e.g. GLIBC_2.38 -> [__isoc23_strtol])
    version_symbols: Dict[str, List[str]] = field(default_factory=dict)


def is_elf(data: bytes) -> bool:
    """Tells whether data starts like an ELF file."""
    return data[:4] == MAGIC


def _cstring(data: bytes, offset: int) -> str:
    end = data.find(b"\0", offset)
    if offset >= len(data) or end < 0:
        raise ElfError("string offset %d out of range" % offset)
    return data[offset:end].decode("utf-8", "replace")


def parse(data: bytes) -> ElfInfo:
    """Parses an ELF64 little-endian object's dynamic linking information."""
    if not is_elf(data) or len(data) < 64:
        raise ElfError("not an ELF file")
    if data[4] != 2 or data[5] != 1:
        raise ElfError("not a 64-bit little-endian ELF file")
    machine, = struct.unpack_from("<H", data, 18)
    phoff, = struct.unpack_from("<Q", data, 32)
    phentsize, phnum = struct.unpack_from("<HH", data, 54)
    info = ElfInfo(machine)
    loads: List[Tuple[int, int, int]] = []
    dynamic: Optional[Tuple[int, int]] = None
    for index in range(phnum):
        try:
            p_type, _, p_offset, p_vaddr, _, p_filesz, _, _ = struct.unpack_from("<IIQQQQQQ", data, phoff + index * phentsize)
        except struct.error:
            raise ElfError("program header %d out of range" % index) from None
        if p_type == PT_LOAD:
            loads.append((p_vaddr, p_offset, p_filesz))
        elif p_type == PT_DYNAMIC:
            dynamic = (p_offset, p_filesz)
        elif p_type == PT_INTERP:
            info.interpreter = data[p_offset:p_offset + p_filesz].rstrip(b"\0").decode()
    if dynamic is not None:
        indexes = _read_dynamic(data, dynamic, loads, info)
        _read_version_symbols(data, indexes, info)
    return info


def _read_version_symbols(data: bytes, indexes: Dict[int, str], info: ElfInfo) -> None:
    """Fills info.version_symbols from .dynsym and .gnu.version (INDEXES: needed version index -> name)."""
    shoff, = struct.unpack_from("<Q", data, 40)
    shentsize, shnum = struct.unpack_from("<HH", data, 58)
    if not shoff or not indexes:
        return
    sections = {}
    try:
        for index in range(shnum):
            _, sh_type, _, _, sh_offset, sh_size, sh_link, _, _, sh_entsize = struct.unpack_from(
                "<IIQQQQIIQQ", data, shoff + index * shentsize)
            sections[index] = (sh_type, sh_offset, sh_size, sh_link, sh_entsize)
    except struct.error:
        return  # stripped or truncated section headers: the loader does not need them
    dynsym = next((s for s in sections.values() if s[0] == SHT_DYNSYM), None)
    versym = next((s for s in sections.values() if s[0] == SHT_GNU_VERSYM), None)
    if dynsym is None or versym is None or dynsym[3] not in sections or not dynsym[4]:
        return
    strtab = sections[dynsym[3]]
    strings = data[strtab[1]:strtab[1] + strtab[2]]
    for number in range(dynsym[2] // dynsym[4]):
        st_name, _, _, st_shndx = struct.unpack_from("<IBBH", data, dynsym[1] + number * dynsym[4])
        version, = struct.unpack_from("<H", data, versym[1] + number * 2)
        name = indexes.get(version & 0x7FFF)
        if st_shndx == 0 and name and st_name:
            info.version_symbols.setdefault(name, []).append(_cstring(strings, st_name))


def _read_dynamic(data: bytes, dynamic: Tuple[int, int], loads: List[Tuple[int, int, int]],
                  info: ElfInfo) -> Dict[int, str]:
    """Fills info from the PT_DYNAMIC segment; returns each needed version's index -> name."""

    def offset_of(vaddr: int) -> int:
        for start, offset, size in loads:
            if start <= vaddr < start + size:
                return offset + vaddr - start
        raise ElfError("address %#x is in no loaded segment" % vaddr)

    tags: Dict[int, List[int]] = {}
    offset, size = dynamic
    for entry in range(size // 16):
        tag, value = struct.unpack_from("<qQ", data, offset + entry * 16)
        if tag == 0:
            break
        tags.setdefault(tag, []).append(value)
    indexes: Dict[int, str] = {}
    if DT_STRTAB not in tags:
        return indexes
    strtab = offset_of(tags[DT_STRTAB][0])
    strings = data[strtab:strtab + tags.get(DT_STRSZ, [len(data) - strtab])[0]]
    info.needed = [_cstring(strings, v) for v in tags.get(DT_NEEDED, [])]
    info.soname = _cstring(strings, tags[DT_SONAME][0]) if DT_SONAME in tags else None
    info.rpath = [p for v in tags.get(DT_RPATH, []) for p in _cstring(strings, v).split(":") if p]
    info.runpath = [p for v in tags.get(DT_RUNPATH, []) for p in _cstring(strings, v).split(":") if p]
    if DT_VERNEED in tags:
        position = offset_of(tags[DT_VERNEED][0])
        for _ in range(tags.get(DT_VERNEEDNUM, [0])[0]):
            _, count, file_name, aux, following = struct.unpack_from("<HHIII", data, position)
            library = _cstring(strings, file_name)
            aux_position = position + aux
            for _ in range(count):
                _, flags, other, name, aux_next = struct.unpack_from("<IHHII", data, aux_position)
                info.version_needs.append((library, _cstring(strings, name), bool(flags & VER_FLG_WEAK)))
                indexes[other] = _cstring(strings, name)
                aux_position += aux_next
            position += following
    if DT_VERDEF in tags:
        position = offset_of(tags[DT_VERDEF][0])
        for _ in range(tags.get(DT_VERDEFNUM, [0])[0]):
            _, _, _, count, _, aux, following = struct.unpack_from("<HHHHIII", data, position)
            if count:
                name, = struct.unpack_from("<I", data, position + aux)
                info.version_defs.add(_cstring(strings, name))
            position += following
    return indexes

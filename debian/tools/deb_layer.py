"""Merges Debian packages into one reproducible, uncompressed tar layer (a distroless base).

Each .deb's files are taken as dpkg would unpack them, then:
  * merged /usr: paths under bin, sbin, lib, lib64 move under usr/, and those four
    top-level names become links into usr/ (as on an installed Debian);
  * the filter (--filter, JSON) drops documentation and whatever else it names, but
    keeps every package's copyright file;
  * owner 0:0, mtime 0, modes normalised (no setuid/setgid), entries sorted;
  * what maintainer scripts would have made is made here: extra links (--symlink),
    extra empty directories (--dir), the CA bundle (--ca-bundle, from the packages'
    usr/share/ca-certificates/mozilla/*.crt only, sorted) and one dpkg status file per
    package under var/lib/dpkg/status.d/ so image scanners see what is inside.
"""

import argparse
import fnmatch
import json
import sys
import tarfile
from typing import Dict, List, Set

from debfile import Deb, DebError, read_deb
from tarout import DIR, FILE, LINK, Entry, add_parents, normal_mode, write_tar

MERGED = ("bin", "sbin", "lib", "lib64")
CA_DIR = "usr/share/ca-certificates/mozilla/"
STATUS_DIR = "var/lib/dpkg/status.d/"


class LayerError(Exception):
    """A conflict or bad input, reported as one line."""


def merged_path(name: str) -> str:
    """Returns a data.tar member name as a relative path with bin, sbin, lib, lib64 under usr/."""
    path = name.lstrip("./").rstrip("/") if name not in (".", "./") else ""
    top = path.split("/", 1)[0]
    return "usr/" + path if top in MERGED else path


def under(path: str, prefixes: List[str]) -> bool:
    """Tells whether path is one of prefixes or lies below one; a prefix may be a glob
    (fnmatch: "*" also crosses "/", so write usr/lib/python3.*/test, not python3*)."""
    return any(fnmatch.fnmatchcase(path, p) or fnmatch.fnmatchcase(path, p + "/*") for p in prefixes)


class Filter:
    """The image filter: which package paths the layer keeps."""

    def __init__(self, config: dict) -> None:
        self.drop = sorted(config.get("drop", {}))
        self.drop_from = {k: v["paths"] for k, v in config.get("drop_from", {}).items()}
        self.keep_only = {k: v["paths"] for k, v in config.get("keep_only", {}).items()}

    def keeps(self, package: str, path: str, kind: str) -> bool:
        """Tells whether the layer keeps package's path (kind: DIR, FILE or LINK)."""
        doc = "usr/share/doc/" + package
        if path in (doc, doc + "/copyright"):
            return True
        if under(path, ["usr/share/doc"]):
            return path == "usr/share/doc" and kind == DIR
        if package in self.keep_only:
            return under(path, self.keep_only[package])
        return not under(path, self.drop + self.drop_from.get(package, []))


def add_entry(entries: Dict[str, Entry], owners: Dict[str, str], path: str, entry: Entry, package: str) -> None:
    """Adds one path, refusing two packages that ship different things at it."""
    old = entries.get(path)
    if old is not None and not (old.kind == entry.kind == DIR):
        if (old.kind, old.data, old.target) != (entry.kind, entry.data, entry.target):
            raise LayerError("%s ships %s as a %s, %s ships it as a %s" % (owners[path], path, old.kind, package, entry.kind))
    entries[path] = entry
    owners.setdefault(path, package)


def package_entries(deb: Deb, keep: Filter, entries: Dict[str, Entry], owners: Dict[str, str]) -> None:
    """Adds the kept files of one package."""
    for info, content in deb.members():
        if info.issym() and info.name.lstrip("./") in MERGED and info.linkname == "usr/" + info.name.lstrip("./"):
            continue  # a merged-/usr link the package ships itself (Debian 13's base-files); the layer makes them
        path = merged_path(info.name)
        if not path:
            continue
        if info.isdir():
            entry = Entry(DIR, normal_mode(DIR, info.mode))
        elif info.issym():
            entry = Entry(LINK, 0o777, target=info.linkname)
        elif info.isfile():
            entry = Entry(FILE, normal_mode(FILE, info.mode), data=content)
        elif info.islnk():
            raise LayerError("%s: hard link %s is not supported" % (deb.name, path))
        else:
            raise LayerError("%s: %s is a device or fifo" % (deb.name, path))
        if keep.keeps(deb.name, path, entry.kind):
            add_entry(entries, owners, path, entry, deb.name)


def status_file(deb: Deb) -> bytes:
    """Returns the dpkg status stanza for an installed package (its control fields)."""
    fields = list(deb.control)
    fields.insert(1, ("Status", "install ok installed"))
    return "".join("%s: %s\n" % (key, value) for key, value in fields).encode()


def ca_bundle(entries: Dict[str, Entry]) -> bytes:
    """Concatenates the packages' Mozilla CA certificates, sorted by file name."""
    names = sorted(p for p in entries if p.startswith(CA_DIR) and p.endswith(".crt") and entries[p].kind == FILE)
    if not names:
        raise LayerError("--ca-bundle: no %s*.crt in the packages (is ca-certificates in the set?)" % CA_DIR)
    return b"".join(entries[n].data.rstrip(b"\n") + b"\n" for n in names)


def build(debs: List[Deb], keep: Filter, symlinks: Dict[str, str], dirs: List[str], bundle: str) -> Dict[str, Entry]:
    """Returns the layer's entries for debs."""
    entries: Dict[str, Entry] = {}
    owners: Dict[str, str] = {}
    names: Set[str] = set()
    for deb in debs:
        if deb.name in names:
            raise LayerError("package %s given twice" % deb.name)
        names.add(deb.name)
        package_entries(deb, keep, entries, owners)
        add_entry(entries, owners, STATUS_DIR + deb.name, Entry(FILE, 0o644, data=status_file(deb)), deb.name)
    generated = {top: Entry(LINK, 0o777, target="usr/" + top) for top in MERGED}
    generated.update({path: Entry(LINK, 0o777, target=target) for path, target in symlinks.items()})
    generated.update({path: Entry(DIR) for path in dirs})
    if bundle:
        generated[bundle] = Entry(FILE, 0o644, data=ca_bundle(entries))
    for path, entry in sorted(generated.items()):
        add_entry(entries, owners, path, entry, "the layer rule")
    add_parents(entries)
    for path, entry in entries.items():
        parent = path.rsplit("/", 1)[0] if "/" in path else ""
        if parent and entries[parent].kind != DIR:
            raise LayerError("%s lies below %s, which is a %s" % (path, parent, entries[parent].kind))
    return entries


def pair(text: str) -> List[str]:
    """Splits a PATH=TARGET argument."""
    path, sep, target = text.partition("=")
    if not sep or not path or not target:
        raise argparse.ArgumentTypeError("expected PATH=TARGET, got %r" % text)
    return [path.strip("/"), target]


def main(argv: List[str]) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog=__doc__.split("\n", 2)[2], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="tar file to write")
    parser.add_argument("--filter", required=True, help="JSON filter (see debian/image_filter.json)")
    parser.add_argument("--symlink", type=pair, action="append", default=[], metavar="PATH=TARGET", help="add a symbolic link")
    parser.add_argument("--dir", action="append", default=[], metavar="PATH", help="add an empty directory")
    parser.add_argument("--ca-bundle", default="", metavar="PATH", help="write the CA bundle at PATH")
    parser.add_argument("debs", nargs="+", help=".deb files, in lock order")
    args = parser.parse_args(argv)
    try:
        with open(args.filter) as handle:
            keep = Filter(json.load(handle))
        debs = [read_deb(path) for path in args.debs]
        entries = build(debs, keep, dict(args.symlink), [d.strip("/") for d in args.dir], args.ca_bundle.strip("/"))
        with open(args.out, "wb") as out:
            write_tar(entries, out)
    except (LayerError, DebError, OSError, ValueError, KeyError, tarfile.TarError) as error:
        print("deb_layer: %s" % error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

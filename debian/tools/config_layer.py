"""Writes the image's account and name-service files as a reproducible, uncompressed tar layer.

etc/passwd and etc/group list the given users (each with a group of the same name and
id, and no login shell), every home below /home is created owned by its user, and
--file adds further files (such as etc/nsswitch.conf) as root-owned 0644.
"""

import argparse
import sys
from dataclasses import dataclass
from typing import Dict, List

from tarout import DIR, FILE, Entry, add_parents, write_tar

NOLOGIN = "/usr/sbin/nologin"


@dataclass(frozen=True)
class User:
    """An account: name, uid, gid and home directory."""

    name: str
    uid: int
    gid: int
    home: str


def parse_user(text: str) -> User:
    """Parses NAME:UID:GID:HOME."""
    parts = text.split(":")
    if len(parts) != 4 or not parts[0] or not parts[3].startswith("/") or not (parts[1].isdigit() and parts[2].isdigit()):
        raise argparse.ArgumentTypeError("expected NAME:UID:GID:/HOME, got %r" % text)
    return User(parts[0], int(parts[1]), int(parts[2]), parts[3].rstrip("/") or "/")


def parse_file(text: str) -> List[str]:
    """Parses PATH=SOURCE."""
    path, sep, source = text.partition("=")
    if not sep or not path.strip("/") or not source:
        raise argparse.ArgumentTypeError("expected PATH=SOURCE, got %r" % text)
    return [path.strip("/"), source]


def build(users: List[User], files: Dict[str, bytes]) -> Dict[str, Entry]:
    """Returns the layer's entries."""
    if len({u.name for u in users}) != len(users) or len({u.uid for u in users}) != len(users):
        raise ValueError("user names and uids must be unique")
    passwd = "".join("%s:x:%d:%d:%s:%s:%s\n" % (u.name, u.uid, u.gid, u.name, u.home, NOLOGIN) for u in users)
    group = "".join("%s:x:%d:\n" % (u.name, u.gid) for u in users)
    entries = {"etc/passwd": Entry(FILE, 0o644, data=passwd.encode()), "etc/group": Entry(FILE, 0o644, data=group.encode())}
    for path, data in files.items():
        entries[path] = Entry(FILE, 0o644, data=data)
    for user in users:
        if user.home.startswith("/home/"):
            entries[user.home.strip("/")] = Entry(DIR, 0o755, uid=user.uid, gid=user.gid)
    add_parents(entries)
    return entries


def main(argv: List[str]) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog=__doc__.split("\n", 2)[2])
    parser.add_argument("--out", required=True, help="tar file to write")
    parser.add_argument("--user", type=parse_user, action="append", required=True, metavar="NAME:UID:GID:/HOME", help="an account, in passwd order")
    parser.add_argument("--file", type=parse_file, action="append", default=[], metavar="PATH=SOURCE", help="add SOURCE's content at PATH")
    args = parser.parse_args(argv)
    try:
        files = {}
        for path, source in args.file:
            with open(source, "rb") as handle:
                files[path] = handle.read()
        entries = build(args.user, files)
        with open(args.out, "wb") as out:
            write_tar(entries, out)
    except (OSError, ValueError) as error:
        print("config_layer: %s" % error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

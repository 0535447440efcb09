"""Run a command in a private mount namespace with some directories read-only.

Usage: readonly_exec.py [--uid N] [--gid N] [--ro DIR]... -- COMMAND [ARG]...

Needs root (CAP_SYS_ADMIN). The mounts vanish with the process; the host is
not changed. Used by the tests to recreate Kubernetes' readOnlyRootFilesystem
(no writable /tmp) and to run the server as an unprivileged uid.
"""

import argparse
import ctypes
import os
import sys
from typing import List

CLONE_NEWNS = 0x00020000
MS_RDONLY = 1
MS_REMOUNT = 32
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18

_libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def mount(source: str, target: str, flags: int) -> None:
    """mount(2) of SOURCE on TARGET with FLAGS (no file system type, no data)."""
    _check(
        _libc.mount(source.encode(), target.encode(), None, flags, None),
        f"mount {target}",
    )


def make_read_only(directories: List[str]) -> None:
    """Enter a new mount namespace and bind each directory read-only."""
    _check(_libc.unshare(CLONE_NEWNS), "unshare")
    mount("none", "/", MS_REC | MS_PRIVATE)
    for directory in directories:
        mount(directory, directory, MS_BIND | MS_REC)
        mount("none", directory, MS_BIND | MS_REMOUNT | MS_RDONLY)


def main(argv: List[str]) -> int:
    """Parse arguments, set up the namespace, drop privileges, exec."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uid", type=int)
    parser.add_argument("--gid", type=int)
    parser.add_argument("--ro", action="append", default=[], metavar="DIR")
    parser.add_argument("command", nargs="+")
    args = parser.parse_args(argv)
    try:
        make_read_only(args.ro)
        if args.gid is not None:
            os.setgroups([])
            os.setgid(args.gid)
        if args.uid is not None:
            os.setuid(args.uid)
        os.chdir("/")
        os.execv(args.command[0], args.command)
    except OSError as error:
        print(f"readonly_exec: {error}", file=sys.stderr)
        return 125
    return 0  # not reached: execv replaces the process


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

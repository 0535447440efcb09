"""The CPU capacity a container may use: its cgroup CPU limit, else its affinity.

A container limited to 1 CPU on a 64-core host should start workers for one
CPU, not 64: ``os.cpu_count()`` reports the host. This reads the CFS quota of
the cgroup the process is in (cgroup v2 ``cpu.max``, cgroup v1
``cpu.cfs_quota_us`` / ``cpu.cfs_period_us``), of that cgroup and of each
ancestor visible under the mount, and takes the tightest one.

Every path is read below ``root`` so tests can point it at a fixture tree.
"""

import os
from pathlib import Path
from typing import Iterator, Optional

V1_CPU_DIRS = ("cpu,cpuacct", "cpu")


def _read(path: Path) -> Optional[str]:
    try:
        return path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None


def _own_cgroups(root: Path) -> dict:
    """Map each controller list (``""`` for v2) to this process's cgroup path."""
    paths = {}
    for line in (_read(root / "proc/self/cgroup") or "").splitlines():
        parts = line.split(":", 2)
        if len(parts) == 3:
            paths[parts[1]] = parts[2]
    return paths


def _dirs_up(mount: Path, relative: Optional[str]) -> Iterator[Path]:
    """Yield the process's cgroup dir under ``mount`` and its ancestors up to it.

    Inside a container the mount usually shows only the container's own
    cgroup (at the mount's top) while /proc/self/cgroup may name a host path
    that does not exist there; then only the mount's top is read.
    """
    here = mount / (relative or "/").lstrip("/")
    if not here.is_dir():
        here = mount
    while True:
        yield here
        if here == mount or mount not in here.parents:
            return
        here = here.parent


def _quota_v2(directory: Path) -> Optional[float]:
    fields = (_read(directory / "cpu.max") or "").split()
    if len(fields) != 2 or fields[0] == "max":
        return None
    try:
        quota, period = int(fields[0]), int(fields[1])
    except ValueError:
        return None
    return quota / period if quota > 0 and period > 0 else None


def _quota_v1(directory: Path) -> Optional[float]:
    try:
        quota = int(_read(directory / "cpu.cfs_quota_us") or "")
        period = int(_read(directory / "cpu.cfs_period_us") or "")
    except ValueError:
        return None
    return quota / period if quota > 0 and period > 0 else None


def cpu_limit(root: Path = Path("/")) -> Optional[float]:
    """Return the cgroup CPU limit in CPUs (e.g. 1.5), or None if unlimited."""
    cgroups = _own_cgroups(root)
    base = root / "sys/fs/cgroup"
    limits = []
    if (base / "cgroup.controllers").is_file():
        limits = [_quota_v2(d) for d in _dirs_up(base, cgroups.get(""))]
    else:
        for name in V1_CPU_DIRS:
            mount = base / name
            if mount.is_dir():
                relative = next(
                    (p for c, p in cgroups.items() if "cpu" in c.split(",")), None
                )
                limits = [_quota_v1(d) for d in _dirs_up(mount, relative)]
                break
    found = [limit for limit in limits if limit is not None]
    return min(found) if found else None


def available_cpus(root: Path = Path("/")) -> float:
    """Return the CPUs this process may use: min(cgroup limit, affinity count)."""
    affinity = float(len(os.sched_getaffinity(0)))
    limit = cpu_limit(root)
    return affinity if limit is None else min(limit, affinity)

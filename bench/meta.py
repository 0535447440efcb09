"""Records the machine and the run in meta.json: `meta.py start` before the benchmarks, `meta.py end` after."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import List, Optional

from common import write_json


def machine() -> dict:
    """CPU model, core count, memory and kernel, from /proc."""
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo.splitlines() if line.startswith("model name")), "?")
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    mem_kib = next(int(line.split()[1]) for line in meminfo if line.startswith("MemTotal:"))
    return {"cpu": model, "cores": os.cpu_count(), "mem_kib": mem_kib, "kernel": platform.release()}


def loadavg() -> str:
    """The 1-minute load average."""
    return Path("/proc/loadavg").read_text().split()[0]


def main(argv: Optional[List[str]] = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("phase", choices=["start", "end"])
    parser.add_argument("--out", type=Path, required=True, help="meta.json to write (start) or complete (end)")
    parser.add_argument("--invocation", default="bench/run_all.sh", help="the command line of the run (start)")
    parser.add_argument("--note", default="", help="a sentence about the conditions of the run (start)")
    parser.add_argument("--commands", type=Path, help="NAME<TAB>COMMAND lines of the steps that ran (end)")
    args = parser.parse_args(argv)
    if args.phase == "start":
        write_json(
            str(args.out),
            {
                **machine(),
                "date": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
                "invocation": args.invocation,
                "note": args.note,
                "loadavg_start": loadavg(),
            },
        )
        return 0
    if not args.out.is_file() or not args.commands or not args.commands.is_file():
        parser.error("end needs the meta.json written by start and --commands")
    meta = json.loads(args.out.read_text())
    meta["loadavg_end"] = loadavg()
    meta["commands"] = dict(line.split("\t", 1) for line in args.commands.read_text().splitlines() if line)
    write_json(str(args.out), meta)
    return 0


if __name__ == "__main__":
    sys.exit(main())

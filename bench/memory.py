"""Resident memory (VmRSS) of the server's master and each worker, idle and under wrk load,
with its course over the load (a worker that grows per request shows as a slope).

Measures the image (read-only container) and, for comparison, the same server bare on the
host, both with their default settings (no worker retires unless MAX_REQUESTS says so).
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path
from typing import Dict, List, Optional

from common import WORKSPACE, BenchError, PodmanStore, children, free_port, measure_in_store, rss_kib, wait_ready, wrk
from contenders import Contenders

SETTLE_SECONDS = 2.0
WARM_UP_SECONDS = 5.0  # growth is measured from here to the end of the load


def sample(master: int) -> Dict[str, object]:
    """VmRSS (KiB) of MASTER and of each of its children (workers come and go: a worker
    retiring after MAX_REQUESTS may be gone, or a zombie without VmRSS, when read)."""
    workers = {}
    for pid in children(master):
        try:
            workers[str(pid)] = rss_kib(pid)
        except (OSError, BenchError):
            continue
    return {"master": rss_kib(master), "workers": workers}


def measure(contenders: Contenders, name: str, connections: int, seconds: float) -> Dict[str, object]:
    """Idle sample after start-up, samples every 0.25 s during a wrk run (the largest, and
    the whole course), and one after."""
    port = free_port()
    process = contenders.start(name, port)
    try:
        wait_ready(port, process)
        master = contenders.store.pid(process) if name == "image" else process.pid  # type: ignore[union-attr]
        time.sleep(SETTLE_SECONDS)
        idle = sample(master)
        loaded: List[Dict[str, object]] = []
        timeline: List[List[object]] = []
        result: Dict[str, float] = {}
        load = threading.Thread(target=lambda: result.update(wrk(port, connections, seconds)))
        started = time.monotonic()
        load.start()
        time.sleep(0.5)
        while load.is_alive():
            loaded.append(sample(master))
            timeline.append([round(time.monotonic() - started, 2), loaded[-1]["workers"]])
            time.sleep(0.25)
        load.join()
        time.sleep(SETTLE_SECONDS)
        after = sample(master)
        peak = {
            "master": max(s["master"] for s in loaded),  # type: ignore[type-var]
            "worker": max(max(s["workers"].values(), default=0) for s in loaded),  # type: ignore[union-attr]
        }
        seen = set(idle["workers"]).union(*(s["workers"] for s in loaded), after["workers"])  # type: ignore[arg-type]
        warm = [s for t, s in timeline if t >= WARM_UP_SECONDS] or [s for _, s in timeline]
        return {
            "timeline_kib": timeline,
            "growth_after_warm_up_kib": max(max(s.values(), default=0) for s in warm) - max(warm[0].values(), default=0),
            "idle_kib": idle,
            "load_peak_kib": peak,
            "after_load_kib": after,
            "load_connections": connections,
            "load_seconds": seconds,
            "samples": len(loaded),
            "workers_replaced": len(seen) - len(idle["workers"]),  # type: ignore[arg-type]
            "load_requests": result.get("requests", 0),
        }
    finally:
        contenders.stop(name, process)


def main(argv: Optional[List[str]] = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", type=Path, required=True, help="OCI layout directory of the image")
    parser.add_argument(
        "--source", type=Path, default=WORKSPACE, help="directory with the runtime/ and app/ to run bare"
    )
    parser.add_argument("--server-venv", type=Path, required=True, help="venv of requirements_lock.txt")
    parser.add_argument("--out", required=True, help="JSON file to write")
    parser.add_argument("--seconds", type=int, default=5, help="length of the wrk run (whole seconds)")
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args(argv)
    if not (args.image / "index.json").is_file():
        parser.error("no OCI layout at %s" % args.image)

    def run(store: PodmanStore) -> object:
        images = {"image": store.load(args.image, "pyc")}
        contenders = Contenders(args.source, args.server_venv, args.server_venv, store, images)
        return {name: measure(contenders, name, args.connections, args.seconds) for name in ("image", "bare")}

    return measure_in_store("memory", args.out, run)

if __name__ == "__main__":
    sys.exit(main())

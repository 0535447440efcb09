"""Throughput and latency of every contender with wrk, rounds interleaved (A B C, B C A, C A B, ...).

Every round starts fresh servers: meinheld's workers grow by a few KiB per request (see memory.py),
so one long-lived server would carry millions of requests' worth of memory into later rounds.

Writes JSON: per contender and connection count, the rounds' requests/s, p50 and p99 (ms).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from common import WORKSPACE, PodmanStore, free_port, measure_in_store, summary, wait_ready, wrk
from contenders import DESCRIPTIONS, NAMES, Contenders


def start_all(contenders: Contenders, names: List[str]) -> Dict[str, Tuple[subprocess.Popen, int]]:
    """Starts every contender on a port of its own, waits for each to answer, warms each up for 1 s."""
    running: Dict[str, Tuple[subprocess.Popen, int]] = {}
    try:
        for name in names:
            port = free_port()
            running[name] = (contenders.start(name, port), port)
            wait_ready(port, running[name][0])
        for name in names:
            wrk(running[name][1], 16, 1)
    except BaseException:
        stop_all(contenders, running)
        raise
    return running


def stop_all(contenders: Contenders, running: Dict[str, Tuple[subprocess.Popen, int]]) -> None:
    """Stops every contender in RUNNING."""
    for name, (process, _) in running.items():
        contenders.stop(name, process)


def measure(
    contenders: Contenders, names: List[str], connections: List[int], rounds: int, seconds: int
) -> Dict[str, object]:
    """Runs the rounds; each starts fresh servers (all idle but the one under load), rotated order."""
    samples: Dict[str, Dict[int, List[Dict[str, float]]]] = {n: {c: [] for c in connections} for n in names}
    for round_number in range(rounds):
        order = names[round_number % len(names) :] + names[: round_number % len(names)]
        running = start_all(contenders, order)
        try:
            for conns in connections:
                for name in order:
                    samples[name][conns].append(wrk(running[name][1], conns, seconds))
        finally:
            stop_all(contenders, running)
        print("throughput: round %d/%d done" % (round_number + 1, rounds), file=sys.stderr, flush=True)
    return {
        "rounds": rounds,
        "seconds": seconds,
        "connections": connections,
        "wrk_threads": 1,
        "contenders": {name: DESCRIPTIONS[name] for name in names},
        "results": {
            name: {
                str(c): {
                    key: summary(s[key] for s in runs) | {"runs": [s[key] for s in runs]}
                    for key in ("rps", "p50_ms", "p99_ms")
                }
                | {"errors": sum(s["errors"] + s["non2xx"] for s in runs)}
                for c, runs in per_conn.items()
            }
            for name, per_conn in samples.items()
        },
    }


def main(argv: Optional[List[str]] = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", type=Path, required=True, help="OCI layout directory of the image")
    parser.add_argument("--previous", type=Path, help="OCI layout of an earlier build, measured as contender 'previous'")
    parser.add_argument(
        "--source", type=Path, default=WORKSPACE, help="directory with the runtime/ and app/ to run bare"
    )
    parser.add_argument("--server-venv", type=Path, required=True, help="venv of requirements_lock.txt")
    parser.add_argument("--tools-venv", type=Path, required=True, help="venv holding granian")
    parser.add_argument("--out", required=True, help="JSON file to write")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=5, help="length of one wrk run (whole seconds)")
    parser.add_argument("--connections", default="1,16,64,256", help="comma-separated connection counts")
    parser.add_argument("--contenders", default=",".join(NAMES), help="comma-separated subset of " + ",".join(NAMES))
    args = parser.parse_args(argv)
    names = [n for n in args.contenders.split(",") if n != "previous" or args.previous]
    layouts = {"image": args.image, **({"previous": args.previous} if args.previous else {})}
    if not set(names) <= set(NAMES):
        parser.error("unknown contender in %r" % args.contenders)
    for layout in layouts.values():
        if not (layout / "index.json").is_file():
            parser.error("no OCI layout at %s" % layout)

    def run(store: PodmanStore) -> object:
        images = {name: store.load(layout, name) for name, layout in layouts.items()}
        contenders = Contenders(args.source, args.server_venv, args.tools_venv, store, images)
        started = time.time()
        data = measure(contenders, names, [int(c) for c in args.connections.split(",")], args.rounds, args.seconds)
        data["wall_seconds"] = round(time.time() - started, 1)
        return data

    return measure_in_store("throughput", args.out, run)

if __name__ == "__main__":
    sys.exit(main())

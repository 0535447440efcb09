"""Start-up: the container runtime's own cost, and process start to first 200, pyc vs no pyc
(and an earlier build of the image, when given).

Rounds are interleaved (pyc, no-pyc, previous, bare, pyc, ...). Times are wall-clock seconds.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional

from common import WORKSPACE, BenchError, PodmanStore, free_port, measure_in_store, summary, wait_ready
from contenders import Contenders

PYTHON = "/usr/bin/python3"  # Debian's link to the image's interpreter, whichever version


def noop(store: PodmanStore, image: str) -> float:
    """Seconds `podman run --rm` of the image's interpreter with `-c pass` takes, end to end."""
    started = time.monotonic()
    process = store.run(image, ["-c", "pass"], entrypoint=PYTHON)
    if process.wait(120) != 0:
        raise BenchError("the no-op container exited with status %d" % process.returncode)
    return time.monotonic() - started


def host_noop() -> float:
    """Seconds the host's own python3 takes for `-c pass`, for comparison."""
    started = time.monotonic()
    subprocess.run(["taskset", "-c", "1", "python3", "-c", "pass"], check=True, timeout=60)
    return time.monotonic() - started


def first_200(contenders: Contenders, name: str, image: Optional[str]) -> Dict[str, float]:
    """Starts the server (the image contender running IMAGE, or NAME); returns seconds from
    spawn, and from its process's start, to the first 200."""
    if image:
        contenders.images["image"] = image
    port = free_port()
    spawned = time.time()
    process = contenders.start(name, port)
    try:
        ready = wait_ready(port, process)
        started = contenders.store.started_at(process) if image else spawned  # type: ignore[union-attr]
        return {"spawn_to_200": ready - spawned, "process_to_200": ready - started}
    finally:
        contenders.stop(name, process)


def main(argv: Optional[List[str]] = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", type=Path, required=True, help="OCI layout of the image (with bytecode)")
    parser.add_argument("--image-nopyc", type=Path, required=True, help="OCI layout built with pyc=false")
    parser.add_argument("--previous", type=Path, help="OCI layout of an earlier build, measured as 'previous'")
    parser.add_argument(
        "--source", type=Path, default=WORKSPACE, help="directory with the runtime/ and app/ to run bare"
    )
    parser.add_argument("--server-venv", type=Path, required=True, help="venv of requirements_lock.txt")
    parser.add_argument("--out", required=True, help="JSON file to write")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    layouts = {"pyc": args.image, "nopyc": args.image_nopyc, **({"previous": args.previous} if args.previous else {})}
    for layout in layouts.values():
        if not (layout / "index.json").is_file():
            parser.error("no OCI layout at %s" % layout)

    def run(store: PodmanStore) -> object:
        images = {variant: store.load(layout, variant) for variant, layout in layouts.items()}
        contenders = Contenders(args.source, args.server_venv, args.server_venv, store)
        for image in images.values():
            noop(store, image)  # the first run of an image pays for setting up its overlay mounts
        runs: Dict[str, List[float]] = {"container_noop": [], "host_noop": []}
        starts: Dict[str, List[Dict[str, float]]] = {variant: [] for variant in [*images, "bare"]}
        for round_number in range(args.rounds):
            runs["container_noop"].append(noop(store, images["pyc"]))
            runs["host_noop"].append(host_noop())
            for variant, image in images.items():
                starts[variant].append(first_200(contenders, "image", image))
            starts["bare"].append(first_200(contenders, "bare", None))
            print("startup: round %d/%d done" % (round_number + 1, args.rounds), file=sys.stderr, flush=True)
        return {
            "rounds": args.rounds,
            "noop": {key: summary(values) for key, values in runs.items()},
            "first_200": {
                variant: {key: summary(s[key] for s in samples) for key in samples[0]}
                for variant, samples in starts.items()
            },
        }

    return measure_in_store("startup", args.out, run)

if __name__ == "__main__":
    sys.exit(main())

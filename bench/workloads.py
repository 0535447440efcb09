"""Real workloads: TechEmpower's request shapes on a real PostgreSQL and a call to an upstream that
answers after 2 or 20 ms, on the kit's image and its peers; and the postgres example's image
against the same example on gunicorn gthread.

wrk -t1 at 64 connections (--connections), one path per shape. Rounds are interleaved as in
throughput.py: each round starts fresh servers (all idle but the one under load), checks every
shape's answer of each (status and content), warms each up for 1 s on /db at the measured connections
(every thread the server will use opens its database and upstream connections), then runs shape by
shape, contender by contender, in an order rotated from round to round. PostgreSQL (database.py)
and the upstream (upstream.py) run on the load CPU with wrk for the whole run.

Writes JSON: per shape and contender, the rounds' requests/s, p50 and p99 (ms), socket errors
and non-2xx answers; the same for the example under "example".
"""

from __future__ import annotations

import argparse
import http.client
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List, NamedTuple, Optional, Tuple

from common import (
    BENCH,
    LOAD_CPU,
    WORKSPACE,
    BenchError,
    PodmanStore,
    free_port,
    measure_in_store,
    stop_process,
    summary,
    wait_ready,
    wrk,
)
from database import FORTUNES, WORLD_ROWS, Postgres
from workload_contenders import NAMES, THREADS, WorkloadContenders, describe, image_threads, valid

WARM_UP_PATH = "/db"
READY_TIMEOUT = 30.0
Running = Dict[str, Tuple[subprocess.Popen, int]]


def _json(body: bytes) -> object:
    try:
        return json.loads(body)
    except ValueError:
        return None


def _world(row: object) -> bool:
    return isinstance(row, dict) and set(row) == {"id", "randomNumber"} and 1 <= row["id"] <= WORLD_ROWS


def _worlds(body: bytes, count: int) -> bool:
    rows = _json(body)
    return isinstance(rows, list) and len(rows) == count and all(_world(row) for row in rows)


class Shape(NamedTuple):
    """A request shape: the path wrk asks for, what one request does, and a check of one answer's body."""

    path: str
    what: str
    check: Callable[[bytes], bool]


SHAPES: Dict[str, Shape] = {
    "plaintext": Shape("/plaintext", "`Hello, World!` as text/plain (TechEmpower's, without its 16-deep pipelining)",
                       lambda body: body == b"Hello, World!"),
    "json": Shape("/json", "`{\"message\": \"Hello, World!\"}` serialised per request",
                  lambda body: _json(body) == {"message": "Hello, World!"}),
    "db": Shape("/db", "one random row of `world` (10,000 rows), as JSON", lambda body: _world(_json(body))),
    "queries": Shape("/queries?queries=20", "20 random rows of `world`, one query each, as a JSON list",
                     lambda body: _worlds(body, 20)),
    "fortunes": Shape("/fortunes", "the %d rows of `fortune` plus one added at request time, sorted, through an "
                      "HTML template with every message escaped" % len(FORTUNES),
                      lambda body: body.count(b"<tr>") == len(FORTUNES) + 2
                      and b"&lt;script&gt;" in body and FORTUNES[-1].encode() in body
                      and b"Additional fortune added at request time." in body),
    "upstream-2ms": Shape("/upstream?ms=2", "one HTTP GET (http.client, keep-alive) to an upstream on loopback "
                          "that answers after 2 ms", lambda body: body == b"ok"),
    "upstream-20ms": Shape("/upstream?ms=20", "one HTTP GET (http.client, keep-alive) to an upstream on loopback "
                           "that answers after 20 ms", lambda body: body == b"ok"),
}
EXAMPLE_PATH = "/"


def fetch(port: int, path: str) -> Tuple[int, bytes]:
    """GET PATH on 127.0.0.1:PORT: status and body."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    except OSError as error:
        raise BenchError("GET %s on port %d: %s" % (path, port, error)) from None
    finally:
        connection.close()


def check(name: str, port: int, path: str, ok: Callable[[bytes], bool]) -> None:
    """Raises BenchError unless contender NAME answers PATH with 200 and a body OK accepts."""
    status, body = fetch(port, path)
    if status != 200 or not ok(body):
        raise BenchError("%s answered GET %s with %d %r" % (name, path, status, body[:200]))


def start_all(
    contenders: WorkloadContenders, names: List[str], checks: Dict[str, Callable[[bytes], bool]], warm_path: str,
    connections: int,
) -> Running:
    """Starts every contender on a port of its own, waits for each to answer, checks its answer to each
    path of CHECKS, then warms each up for 1 s on WARM_PATH with CONNECTIONS connections: as many as
    the measurement, so that every thread a server will use has made its database and upstream
    connections (the app makes them on first use) before the measurement starts."""
    running: Running = {}
    try:
        for name in names:
            port = free_port()
            running[name] = (contenders.start(name, port), port)
            wait_ready(port, running[name][0])
            for path, ok in checks.items():
                check(name, port, path, ok)
        for name in names:
            wrk(running[name][1], connections, 1, warm_path)
    except BaseException:
        stop_all(contenders, running)
        raise
    return running


def stop_all(contenders: WorkloadContenders, running: Running) -> None:
    """Stops every contender in RUNNING."""
    for name, (process, _) in running.items():
        contenders.stop(name, process)


def rotated(names: List[str], round_number: int) -> List[str]:
    """NAMES rotated by ROUND_NUMBER (round 0: as given)."""
    shift = round_number % len(names)
    return names[shift:] + names[:shift]


def summarise(runs: List[Dict[str, float]]) -> Dict[str, object]:
    """Median, min, max and every run of rps, p50 and p99; errors and non-2xx added up. A run in which
    no request completed (a server that answers slower than the run is long) has no latency: its p50
    and p99 are left out, and are None when no run has any."""
    out: Dict[str, object] = {"rps": {**summary(run["rps"] for run in runs), "runs": [run["rps"] for run in runs]}}
    for key in ("p50_ms", "p99_ms"):
        timed = [run[key] for run in runs if run["requests"]]
        out[key] = {**summary(timed), "runs": timed} if timed else None
    out["errors"] = sum(int(run["errors"]) for run in runs)
    out["non2xx"] = sum(int(run["non2xx"]) for run in runs)
    out["requests"] = sum(int(run["requests"]) for run in runs)
    return out


def measure(
    app: WorkloadContenders,
    names: List[str],
    shapes: List[str],
    example: Optional[WorkloadContenders],
    example_names: List[str],
    connections: int,
    rounds: int,
    seconds: int,
) -> Dict[str, object]:
    """The rounds: the app's contenders shape by shape, then the example's."""
    samples: Dict[str, Dict[str, List[Dict[str, float]]]] = {s: {n: [] for n in names} for s in shapes}
    example_samples: Dict[str, List[Dict[str, float]]] = {n: [] for n in example_names}
    for round_number in range(rounds):
        order = rotated(names, round_number)
        running = start_all(app, order, {SHAPES[s].path: SHAPES[s].check for s in shapes}, WARM_UP_PATH,
                            connections)
        try:
            for shape in shapes:
                for name in order:
                    samples[shape][name].append(wrk(running[name][1], connections, seconds, SHAPES[shape].path))
        finally:
            stop_all(app, running)
        if example:
            order = rotated(example_names, round_number)
            running = start_all(example, order, {EXAMPLE_PATH: lambda body: b'"visits"' in body}, EXAMPLE_PATH,
                                connections)
            try:
                for name in order:
                    example_samples[name].append(wrk(running[name][1], connections, seconds, EXAMPLE_PATH))
            finally:
                stop_all(example, running)
        print("workloads: round %d/%d done" % (round_number + 1, rounds), file=sys.stderr, flush=True)
    data: Dict[str, object] = {
        "rounds": rounds,
        "seconds": seconds,
        "connections": connections,
        "wrk_threads": 1,
        "order": {"shapes": shapes, "contenders": names, "example": example_names},  # JSON keys get sorted
        "contenders": {name: describe(name) for name in names},
        "shapes": {shape: {"path": SHAPES[shape].path, "what": SHAPES[shape].what} for shape in shapes},
        "results": {shape: {name: summarise(runs) for name, runs in per.items()} for shape, per in samples.items()},
    }
    if example:
        data["example"] = {
            "path": EXAMPLE_PATH,
            "contenders": {name: describe_example(name) for name in example_names},
            "results": {name: summarise(runs) for name, runs in example_samples.items()},
        }
    return data


def describe_example(name: str) -> str:
    """One line on a contender of the example."""
    threads = image_threads(name)
    if threads is None:
        return "the same app (examples/postgres/app) on gunicorn gthread, 2 workers x %s threads, psycopg2-binary" % (
            THREADS)
    return ("examples/postgres built as a user builds it (a kit copy with its app and requirements files), "
            "read-only podman container, 2 workers" + (", THREADS=%s" % threads if threads else ", default settings"))


def start_upstream(port: int) -> subprocess.Popen:
    """upstream.py on 127.0.0.1:PORT on the load CPU; returns once it answers."""
    process = subprocess.Popen(
        ["taskset", "-c", LOAD_CPU, sys.executable, str(BENCH / "upstream.py"), "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    deadline = time.monotonic() + READY_TIMEOUT
    while True:
        try:
            if fetch(port, "/?ms=0") == (200, b"ok"):
                return process
        except BenchError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            stop_process(process)
            raise BenchError("the upstream did not answer on port %d" % port)
        time.sleep(0.05)


def main(argv: Optional[List[str]] = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", type=Path, required=True, help="OCI layout of the kit's image with the workload app")
    parser.add_argument("--app", type=Path, default=BENCH / "apps" / "tfb" / "app",
                        help="folder holding the workload app's `app` package, for the host servers")
    parser.add_argument("--example-image", type=Path, help="OCI layout of examples/postgres's image (Deliver 6)")
    parser.add_argument("--example-app", type=Path, default=WORKSPACE / "examples" / "postgres" / "app",
                        help="folder holding the example's `app` package, for gthread")
    parser.add_argument("--server-venv", type=Path, required=True, help="venv with gunicorn and psycopg2 (gthread)")
    parser.add_argument("--tools-venv", type=Path, required=True, help="venv with granian, bjoern and psycopg2")
    parser.add_argument("--gevent-venv", type=Path, required=True,
                        help="venv with gunicorn, gevent, psycogreen, psycopg2")
    parser.add_argument("--out", required=True, help="JSON file to write")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5, help="length of one wrk run (whole seconds)")
    parser.add_argument("--connections", type=int, default=64, help="wrk connections")
    parser.add_argument("--contenders", default=",".join(NAMES),
                        help="comma-separated, of %s and image-threads=N (the image with THREADS=N)" % ",".join(NAMES))
    parser.add_argument("--shapes", default=",".join(SHAPES), help="comma-separated subset of " + ",".join(SHAPES))
    args = parser.parse_args(argv)
    names = args.contenders.split(",")
    shapes = args.shapes.split(",")
    if not all(valid(name) for name in names) or len(set(names)) != len(names):
        parser.error("unknown or repeated contender in %r" % args.contenders)
    if not set(shapes) <= set(SHAPES):
        parser.error("unknown shape in %r" % args.shapes)
    for layout in [args.image] + ([args.example_image] if args.example_image else []):
        if not (layout / "index.json").is_file():
            parser.error("no OCI layout at %s" % layout)
    venvs = {"server": args.server_venv, "tools": args.tools_venv, "gevent": args.gevent_venv}
    example_names = [name for name in names if image_threads(name) is not None] + ["gthread"]

    def run(store: PodmanStore) -> object:
        started = time.time()
        database = Postgres()
        upstream: Optional[subprocess.Popen] = None
        try:
            database.start()
            upstream_port = free_port()
            upstream = start_upstream(upstream_port)
            env = {"DATABASE_URL": database.url, "UPSTREAM_URL": "http://127.0.0.1:%d" % upstream_port}
            app = WorkloadContenders(args.app, venvs, env, store, store.load(args.image, "workloads"))
            example = None
            if args.example_image:
                example = WorkloadContenders(args.example_app, venvs, {"DATABASE_URL": database.url}, store,
                                             store.load(args.example_image, "example"))
            data = measure(app, names, shapes, example, example_names if example else [], args.connections,
                           args.rounds, args.seconds)
            data["postgresql"] = database.server_version()
            data["rows"] = dict(zip(("world", "fortune"), database.counts()))
        finally:
            if upstream is not None:
                stop_process(upstream)
            database.stop()
        data["wall_seconds"] = round(time.time() - started, 1)
        return data

    return measure_in_store("workloads", args.out, run)


if __name__ == "__main__":
    sys.exit(main())

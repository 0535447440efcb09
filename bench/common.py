"""Shared pieces of the benchmarks: the build root, a private podman store, servers, wrk."""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence

BENCH = Path(__file__).resolve().parent
WORKSPACE = BENCH.parent
ROOT_SH = str(BENCH / "root.sh")
LOAD_CPU, SERVER_CPU = "0", "1"
STOP_TIMEOUT = 15

sys.dont_write_bytecode = True  # nothing may land in the checkout's image/, testing/ or bench/
sys.path[:0] = [str(WORKSPACE), str(WORKSPACE / "image")]
import security  # noqa: E402  (image/security.py: the one source of the podman flags)
from testing.podman import store_env  # noqa: E402  (the kit's test helpers)
from testing.ports import free_port  # noqa: E402,F401  (the bench scripts take it from here)


class BenchError(Exception):
    """A benchmark step failed; the message is one line for the user."""


def root_dir() -> Path:
    """Returns the host directory of ./bazelw's build root."""
    return Path(subprocess.run([ROOT_SH, "--path"], capture_output=True, text=True, check=True).stdout.strip())


def get_status(port: int, timeout: float = 2.0) -> Optional[int]:
    """GET / on 127.0.0.1:PORT; returns the status, or None when nothing answers."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", "/")
        return connection.getresponse().status
    except OSError:
        return None
    finally:
        connection.close()


def wait_ready(port: int, process: subprocess.Popen, timeout: float = 60.0) -> float:
    """Polls GET / every 5 ms until it answers 200; returns time.time() of that answer."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if get_status(port) == 200:
            return time.time()
        if process.poll() is not None:
            raise BenchError("server exited with status %d before answering" % process.returncode)
        time.sleep(0.005)
    raise BenchError("no 200 on port %d within %.0f s" % (port, timeout))


def stop_process(process: subprocess.Popen) -> None:
    """SIGTERM to PROCESS, SIGKILL to its process group if it is still there after a while."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(STOP_TIMEOUT)


class PodmanStore:
    """A private podman store (overlay) under the build root's /tmp, removed by close()."""

    def __init__(self) -> None:
        self.host_dir = Path(tempfile.mkdtemp(prefix="bench-podman-", dir=root_dir() / "tmp"))
        self.dir = "/tmp/" + self.host_dir.name  # the same directory, seen from inside the root
        self.env = ["%s=%s" % item for item in sorted(store_env(self.host_dir, "overlay", self.dir).items())]
        self.names: List[str] = []

    def command(self, *args: str) -> List[str]:
        """Returns the command line of `podman ARGS` against this store, inside the root."""
        return [ROOT_SH, *self.env, *security.PODMAN, *args]

    def load(self, layout: Path, tag: str) -> str:
        """Copies the OCI layout LAYOUT into the store as localhost/bench:TAG; returns that name."""
        copy = self.host_dir / ("layout-" + tag)
        shutil.copytree(layout, copy, symlinks=False)
        image = "localhost/bench:" + tag
        result = subprocess.run(
            [
                ROOT_SH,
                *self.env,
                "skopeo",
                "copy",
                "-q",
                "oci:%s/%s" % (self.dir, copy.name),
                "containers-storage:" + image,
            ],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if result.returncode != 0:
            raise BenchError("skopeo could not load %s: %s" % (layout, result.stderr.strip()[-300:]))
        return image

    def run(
        self,
        image: str,
        args: Sequence[str] = (),
        env: Optional[Dict[str, str]] = None,
        entrypoint: Optional[str] = None,
        detach: bool = False,
    ) -> subprocess.Popen:
        """Starts IMAGE read-only on the host network, on the server CPU, with image/settings.json's security flags."""
        name = "bench-%d-%d" % (os.getpid(), len(self.names))
        self.names.append(name)
        command = [
            "run",
            "--rm",
            "--name",
            name,
            "--network",
            "host",
            "--cpuset-cpus",
            SERVER_CPU,
            *security.podman_run_flags(),
        ]
        for key, value in (env or {}).items():
            command += ["--env", "%s=%s" % (key, value)]
        if entrypoint:
            command += ["--entrypoint", entrypoint]
        process = subprocess.Popen(
            self.command(*command, image, *args),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        process.container = name  # type: ignore[attr-defined]
        return process

    def inspect(self, process: subprocess.Popen, template: str) -> str:
        """`podman inspect --format TEMPLATE` of PROCESS's container."""
        result = subprocess.run(self.command("inspect", "--format", template, process.container),
                                capture_output=True, text=True, timeout=30, check=True)
        return result.stdout.strip()

    def pid(self, process: subprocess.Popen) -> int:
        """Returns the host PID of the container's first process."""
        return int(self.inspect(process, "{{.State.Pid}}"))

    def started_at(self, process: subprocess.Popen) -> float:
        """Returns when the container's first process started, as a time.time() value."""
        return int(self.inspect(process, "{{.State.StartedAt.UnixNano}}")) / 1e9

    def stop(self, process: subprocess.Popen) -> None:
        """Stops the container of PROCESS and removes it."""
        subprocess.run(
            self.command("stop", "--ignore", "-t", "5", process.container), capture_output=True, timeout=60, check=False
        )
        stop_process(process)
        subprocess.run(
            self.command("rm", "--force", "--ignore", process.container), capture_output=True, timeout=60, check=False
        )

    def close(self) -> None:
        """Removes every container and image of the store, then the store."""
        for name in self.names:
            subprocess.run(
                self.command("rm", "--force", "--ignore", name), capture_output=True, timeout=60, check=False
            )
        subprocess.run(self.command("rmi", "--all", "--force"), capture_output=True, timeout=120, check=False)
        shutil.rmtree(self.host_dir, ignore_errors=True)


def measure_with(step: str, out: str, make: Callable[[], Any], measure: Callable[[Any], object]) -> int:
    """Runs MEASURE with what MAKE makes (a podman store, a clone: anything with close()),
    writes what it returns to OUT as JSON and closes it; a BenchError becomes one line
    ("STEP: error: ...") and exit status 1."""
    resource = make()
    try:
        write_json(out, measure(resource))
    except BenchError as error:
        print("%s: error: %s" % (step, error), file=sys.stderr)
        return 1
    finally:
        resource.close()
    return 0


def measure_in_store(step: str, out: str, measure: Callable[["PodmanStore"], object]) -> int:
    """measure_with a private podman store."""
    return measure_with(step, out, PodmanStore, measure)


def host_server(command: Sequence[str], env: Dict[str, str], cwd: Path = WORKSPACE) -> subprocess.Popen:
    """Starts COMMAND on the server CPU as its own process group."""
    return subprocess.Popen(
        ["taskset", "-c", SERVER_CPU, *command],
        env={**os.environ, **env},
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([0-9.]+)([a-z]+)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def wrk(port: int, connections: int, seconds: int, path: str = "/") -> Dict[str, float]:
    """Runs wrk (one thread, on the load CPU) against 127.0.0.1:PORT PATH; returns requests, rps, p50 and p99
    (ms), socket errors and non-2xx answers."""
    command = [
        "taskset",
        "-c",
        LOAD_CPU,
        ROOT_SH,
        "wrk",
        "-t1",
        "-c%d" % connections,
        "-d%ds" % seconds,
        "--timeout",
        "5s",
        "--latency",
        "http://127.0.0.1:%d%s" % (port, path),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=False)
    out = result.stdout
    rps = re.search(r"Requests/sec:\s+([0-9.]+)", out)
    p50 = re.search(r"^\s+50%\s+(\S+)", out, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", out, re.M)
    if result.returncode != 0 or not (rps and p50 and p99):
        raise BenchError("wrk failed on port %d: %s" % (port, (result.stderr or out).strip()[-300:]))
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    requests = re.search(r"(\d+) requests in", out)
    return {
        "rps": float(rps.group(1)),
        "requests": int(requests.group(1)) if requests else 0,
        "p50_ms": _ms(p50.group(1)),
        "p99_ms": _ms(p99.group(1)),
        "errors": sum(int(n) for n in errors.groups()) if errors else 0,
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
    }


def summary(values: Iterable[float]) -> Dict[str, float]:
    """Median, min and max of VALUES."""
    values = list(values)
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


def write_json(path: str, data: object) -> None:
    """Writes DATA as indented JSON to PATH."""
    Path(path).write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")


def rss_kib(pid: int) -> int:
    """VmRSS of PID in KiB, from /proc/PID/status."""
    for line in Path("/proc/%d/status" % pid).read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise BenchError("no VmRSS for PID %d" % pid)


def children(pid: int) -> List[int]:
    """PIDs whose parent is PID."""
    return sorted(int(task) for task in Path("/proc/%d/task/%d/children" % (pid, pid)).read_text().split())

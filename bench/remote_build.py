"""Cold builds of //:image locally and on remote/cluster.py's cluster, side by side in one run.

In a temporary clone of HEAD (bench/build.py's), each build in a fresh Bazel output base with
the repository cache shared (downloads are not measured; the repository rules that unpack and
build them run on the client every time): locally; with --config=remote on a fresh cluster of
one worker; on a fresh cluster of two workers; then a second client of that cluster, whose
actions are all cache hits. Records wall-clock seconds and Bazel's process summary of each.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional

from build import Clone
from common import BenchError, free_port, measure_with

START_TIMEOUT = 600  # the first start installs BuildGrid from PyPI
SUMMARY = re.compile(r"^INFO: (\d+ process.*)\.$", re.MULTILINE)


class Cluster:
    """remote/cluster.py with N workers and an empty CAS, its folder in the build root's /tmp."""

    def __init__(self, clone: Clone, host_dir: Path, workers: int) -> None:
        for old in host_dir.iterdir():  # the last cluster's CAS, caches and logs; its venv stays
            if not old.name.startswith("venv-"):
                subprocess.run(["rm", "-rf", str(old)], check=True)
        self.port = free_port()
        self.process = subprocess.Popen(
            [str(clone.ws / "bazelw"), "--exec", "remote/cluster.py", "--dir", "/tmp/" + host_dir.name,
             "--port", str(self.port), "--workers", str(workers)],
            cwd=clone.ws, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while not (host_dir / "cluster.json").exists():
            if self.process.poll() is not None:
                raise BenchError("remote/cluster.py exited: %s" % self.process.stderr.read().strip()[-300:])
            if time.monotonic() > deadline:
                self.close()
                raise BenchError("remote/cluster.py did not start within %d s" % START_TIMEOUT)
            time.sleep(0.5)

    def close(self) -> None:
        """Stops the cluster: SIGTERM, on which it stops what it started."""
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=120)


def build(clone: Clone, name: str, *flags: str, env: Optional[Dict[str, str]] = None) -> Dict[str, object]:
    """Builds //:image in a fresh output base NAME; returns its seconds and process summary."""
    started = time.monotonic()
    result = subprocess.run(
        [str(clone.ws / "bazelw"), "--output_base=%s/%s" % (clone.inside, name), "build", "--color=no",
         "--curses=no", *flags, "//:image"],
        cwd=clone.ws, env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=3600, check=False,
    )
    seconds = time.monotonic() - started
    if result.returncode != 0:
        raise BenchError("%s: bazel build failed: %s" % (name, result.stderr.strip()[-400:]))
    subprocess.run([str(clone.ws / "bazelw"), "--output_base=%s/%s" % (clone.inside, name), "shutdown"],
                   cwd=clone.ws, capture_output=True, timeout=120, check=False)
    summary = SUMMARY.findall(result.stderr)
    return {"seconds": seconds, "summary": summary[-1] if summary else ""}


def measure(clone: Clone) -> Dict[str, object]:
    """The four builds, in one run."""
    results: Dict[str, object] = {"local": build(clone, "local")}
    host_dir = Path(tempfile.mkdtemp(prefix="bench-cluster-", dir=clone.root / "tmp"))
    try:
        for workers in (1, 2):
            cluster = Cluster(clone, host_dir, workers)
            try:
                env = {"REMOTE_EXECUTOR": "grpc://127.0.0.1:%d" % cluster.port}
                results["remote_%d" % workers] = build(clone, "remote-%d" % workers, "--config=remote", env=env)
                if workers == 2:
                    results["second_client"] = build(clone, "second-client", "--config=remote", env=env)
            finally:
                cluster.close()
    finally:
        subprocess.run(["rm", "-rf", str(host_dir)], check=False)
    with open("/proc/loadavg") as loadavg:
        results["loadavg_end"] = loadavg.read().split()[0]
    results["date"] = time.strftime("%Y-%m-%d %H:%M", time.gmtime())
    return results


def main(argv: Optional[List[str]] = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="JSON file to write")
    args = parser.parse_args(argv)
    return measure_with("remote_build", args.out, lambda: Clone(fresh_repository_cache=False), measure)


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""A remote-execution cluster on loopback: ./bazelw --exec remote/cluster.py [--workers N]

Starts, inside the build root, BuildGrid's server (execution, action cache, CAS; its
scheduler's state in a PostgreSQL of its own) and N buildbox workers, each a
buildbox-casd with its own cache and a buildbox-worker that runs every action in a
bubblewrap sandbox of the build root's /usr and /etc: the tools and libraries a local
build uses. Then `./bazelw build //:image --config=remote` runs every action there.

BuildGrid and what it needs come from PyPI, pinned by sha256 (remote/requirements_lock.txt),
installed once into a venv under --dir. It runs until Ctrl-C or SIGTERM, which stop every
process it started. A worker that dies is reported and the rest go on: its job returns
to the queue once its bot session expires (--keepalive). --dir/cluster.json names the
endpoint and each process's PID; logs are in --dir/logs.
"""

import argparse
import hashlib
import json
import os
import platform
import re
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional

HERE = Path(__file__).resolve().parent
LOCK = HERE / "requirements_lock.txt"
CONFIG = HERE / "buildgrid.yml"
BAZELRC = HERE.parent / ".bazelrc"  # its --config=remote names this cluster's port
START_TIMEOUT = 120.0
STOP_TIMEOUT = 20.0
# The Remote Execution API's platform lexicon names for the machine's instruction set.
ISA = {"x86_64": "x86-64", "aarch64": "arm-a64"}
# What a sandboxed action sees of the build root, besides its inputs: read-only.
SYSTEM_DIRS = ("usr", "etc", "bin", "sbin", "lib", "lib64", "lib32", "libx32")
RUNNER = "/usr/bin/buildbox-run-bubblewrap"
POSTGRES_USER = "nobody"  # PostgreSQL refuses to run as root, which the build root's user is


class ClusterError(Exception):
    """A failure worth one line to the user."""


def default_port() -> int:
    """The port of .bazelrc's ``build:remote --remote_executor=grpc://127.0.0.1:PORT``."""
    found = re.search(r"^build:remote --remote_executor=grpc://127\.0\.0\.1:(\d+)$",
                      BAZELRC.read_text(encoding="utf-8"), re.MULTILINE)
    if not found:
        raise ClusterError("%s names no build:remote --remote_executor on 127.0.0.1" % BAZELRC)
    return int(found.group(1))


def platform_args() -> List[str]:
    """buildbox-worker's --platform options: the properties .bazelrc's --config=remote asks
    for (--remote_default_exec_properties), and the machine's ISA."""
    wanted = re.findall(r"^build:remote --remote_default_exec_properties=(\S+)$",
                        BAZELRC.read_text(encoding="utf-8"), re.MULTILINE)
    machine = platform.machine()
    args = []
    for prop in wanted + ["ISA=" + ISA.get(machine, machine)]:
        args += ["--platform", prop]
    return args


def log(message: str) -> None:
    """One progress line on stderr."""
    print("cluster: " + message, file=sys.stderr, flush=True)


def runner_args() -> List[str]:
    """buildbox-worker's --runner-arg options: the build root's system folders, read-only,
    and inputs staged as hard links or copies from the worker's cache (FUSE staging needs
    fusermount3's setuid bit, which means nothing in ./bazelw's user namespace)."""
    args = ["--runner-arg=--staging-mode=copy-or-link"]
    for name in SYSTEM_DIRS:
        path = Path("/", name)
        if path.exists():  # a merged-/usr link (/bin -> usr/bin) is bound as the folder it names
            args.append("--runner-arg=--ro-bind-mount=%s:/%s" % (os.path.realpath(path), name))
    return args


def render_config(port: int, database: str, cas: Path, instance: str, keepalive: float) -> str:
    """BuildGrid's configuration: remote/buildgrid.yml with its $names filled in."""
    template = string.Template(CONFIG.read_text(encoding="utf-8"))
    return template.substitute(port=port, database=database, cas=cas, instance=instance, keepalive=keepalive)


def run(command: List[str], what: str, **kwargs) -> None:
    """Run COMMAND to completion; a failure raises ClusterError with its last output line."""
    done = subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines() or ["exit status %d" % done.returncode]
        raise ClusterError("%s failed: %s" % (what, lines[-1]))


def install_buildgrid(directory: Path) -> Path:
    """The venv holding the locked BuildGrid, made once per lock; returns its bgd."""
    venv = directory / ("venv-" + hashlib.sha256(LOCK.read_bytes()).hexdigest()[:16])
    done = venv / ".complete"
    if not done.exists():
        log("installing BuildGrid from PyPI into %s (once per lock)" % venv)
        shutil.rmtree(venv, ignore_errors=True)  # a venv names its own path: made where it stays
        run([sys.executable, "-m", "venv", str(venv)], "python3 -m venv")
        run(
            [str(venv / "bin" / "pip"), "install", "--quiet", "--no-deps", "--require-hashes",
             "--only-binary=:all:", "-r", str(LOCK)],
            "pip install -r remote/requirements_lock.txt",
        )
        done.touch()
    return venv / "bin" / "bgd"


def wait_for(check, what: str, process: subprocess.Popen, log_file: Path) -> None:
    """Poll CHECK until it is true; fail if PROCESS exits first or START_TIMEOUT passes."""
    deadline = time.monotonic() + START_TIMEOUT
    while not check():
        if process.poll() is not None:
            raise ClusterError("%s exited with status %d at start; see %s" % (what, process.returncode, log_file))
        if time.monotonic() > deadline:
            raise ClusterError("%s did not start within %.0f s; see %s" % (what, START_TIMEOUT, log_file))
        time.sleep(0.2)


def port_open(port: int) -> bool:
    """Whether something accepts TCP connections on 127.0.0.1:PORT."""
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


class Cluster:
    """The processes of one cluster; start() starts them in order, stop() ends them in reverse."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.dir: Path = args.dir.resolve()
        self.logs = self.dir / "logs"
        self.processes: Dict[str, subprocess.Popen] = {}
        self.pg_dir: Optional[Path] = None

    def spawn(self, name: str, command: List[str]) -> subprocess.Popen:
        """Start COMMAND in the background, its output in logs/NAME.log."""
        with open(self.logs / (name + ".log"), "ab") as output:
            process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
                                       env=dict(os.environ, PYTHONUNBUFFERED="1"))  # BuildGrid's log, as it goes
        self.processes[name] = process
        return process

    def start_postgres(self) -> str:
        """A throwaway PostgreSQL for the scheduler, on a Unix socket only; returns its URL."""
        bins = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=lambda p: int(p.parent.parent.name))
        if not bins:
            raise ClusterError("no PostgreSQL in the build root (/usr/lib/postgresql/*/bin/postgres)")
        bindir = bins[-1].parent
        # Outside --dir, which may be a private checkout POSTGRES_USER cannot enter.
        self.pg_dir = Path(tempfile.mkdtemp(prefix="bazelw-remote-pg-"))
        shutil.chown(self.pg_dir, POSTGRES_USER)
        as_user = ["setpriv", "--reuid=" + POSTGRES_USER, "--regid=nogroup", "--clear-groups"]
        data = self.pg_dir / "data"
        run(as_user + [str(bindir / "initdb"), "-D", str(data), "-U", "buildgrid", "--auth=trust", "--no-sync",
                       "-E", "UTF8", "--locale=C"], "initdb")
        process = self.spawn("postgres", as_user + [
            str(bindir / "postgres"), "-D", str(data), "-c", "listen_addresses=", "-c",
            "unix_socket_directories=%s" % self.pg_dir, "-c", "fsync=off", "-c", "max_connections=200",
        ])
        ready = [str(bindir / "pg_isready"), "-q", "-h", str(self.pg_dir)]
        wait_for(lambda: subprocess.run(ready, check=False).returncode == 0, "postgres", process,
                 self.logs / "postgres.log")
        run([str(bindir / "createdb"), "-h", str(self.pg_dir), "-U", "buildgrid", "buildgrid"], "createdb")
        return "postgresql://buildgrid@/buildgrid?host=%s" % self.pg_dir

    def start_server(self, bgd: Path, database: str) -> None:
        """BuildGrid's server on 127.0.0.1:--port, its database migrated first."""
        if port_open(self.args.port):
            raise ClusterError("127.0.0.1:%d is taken; pass another --port" % self.args.port)
        run([str(bgd), "migrate", "apply", database], "bgd migrate apply")
        (self.dir / "cas").mkdir(exist_ok=True)
        config = self.dir / "buildgrid.yml"
        config.write_text(render_config(self.args.port, database, self.dir / "cas", self.args.instance,
                                        self.args.keepalive), encoding="utf-8")
        process = self.spawn("buildgrid", [str(bgd), "server", "start", "-v", str(config)])  # -v: warnings
        wait_for(lambda: port_open(self.args.port), "BuildGrid's server", process, self.logs / "buildgrid.log")

    def start_worker(self, number: int) -> None:
        """buildbox-casd (its own cache) and buildbox-worker number NUMBER."""
        name = "worker-%d" % number
        home = self.dir / name
        home.mkdir(exist_ok=True)
        sock = home / "casd.sock"
        if sock.exists():
            sock.unlink()
        remote = "http://127.0.0.1:%d" % self.args.port
        casd = self.spawn("casd-%d" % number, [
            "buildbox-casd", "--cas-remote=" + remote, "--instance=" + self.args.instance,
            "--bind=unix:%s" % sock, "--quota-high=" + self.args.cache_size, str(home / "cache"),
        ])
        wait_for(sock.exists, "buildbox-casd %d" % number, casd, self.logs / ("casd-%d.log" % number))
        self.spawn(name, [
            "buildbox-worker", "--bots-remote=" + remote, "--cas-remote=unix:%s" % sock,
            "--instance=" + self.args.instance, "--buildbox-run=" + RUNNER, *runner_args(), *platform_args(), name,
        ])

    def start(self) -> None:
        """Everything, in order; writes cluster.json once the workers are started."""
        self.logs.mkdir(parents=True, exist_ok=True)
        bgd = install_buildgrid(self.dir)
        log("starting PostgreSQL (the scheduler's state)")
        database = self.start_postgres()
        log("starting BuildGrid's server on 127.0.0.1:%d" % self.args.port)
        self.start_server(bgd, database)
        for number in range(1, self.args.workers + 1):
            self.start_worker(number)
        state = {
            "endpoint": "grpc://127.0.0.1:%d" % self.args.port,
            "instance": self.args.instance,
            "pids": {name: process.pid for name, process in sorted(self.processes.items())},
        }
        (self.dir / "cluster.json").write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")
        log("ready with %d workers; logs in %s" % (self.args.workers, self.logs))
        log("build with: REMOTE_EXECUTOR=%s ./bazelw test //... --config=remote" % state["endpoint"])

    def watch(self) -> None:
        """Return when the server or its database exits; report each worker that does."""
        reported = set()
        while True:
            for name, process in self.processes.items():
                if process.poll() is None or name in reported:
                    continue
                if name in ("postgres", "buildgrid"):
                    raise ClusterError("%s exited with status %d; see %s" % (
                        name, process.returncode, self.logs / (name + ".log")))
                log("%s exited with status %d; the rest go on" % (name, process.returncode))
                reported.add(name)
            time.sleep(0.5)

    def stop(self) -> None:
        """End every process started, newest first, then remove the database."""
        (self.dir / "cluster.json").unlink(missing_ok=True)
        for name, process in reversed(list(self.processes.items())):
            if process.poll() is None:
                # PostgreSQL: SIGINT is its fast shutdown.
                process.send_signal(signal.SIGINT if name == "postgres" else signal.SIGTERM)
            try:
                process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self.pg_dir:
            shutil.rmtree(self.pg_dir, ignore_errors=True)


def interrupt(signum: int, frame: object) -> None:
    """SIGTERM's handler: stop as Ctrl-C does."""
    raise KeyboardInterrupt


def parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n", 1)[1], formatter_class=argparse.RawDescriptionHelpFormatter,
        usage="./bazelw --exec remote/cluster.py [options]",
    )
    parser.add_argument("--workers", type=int, default=2, help="buildbox workers to start (default: 2)")
    parser.add_argument("--port", type=int, default=default_port(), help="the server's port on 127.0.0.1 "
                        "(default: %(default)s, where .bazelrc's --config=remote looks)")
    parser.add_argument("--instance", default="", help="the instance name clients pass as "
                        "--remote_instance_name or REMOTE_INSTANCE (default: none)")
    parser.add_argument("--dir", type=Path, default=HERE.parent / ".cache" / "remote",
                        help="the CAS, workers' caches, venv, logs and cluster.json (default: .cache/remote)")
    parser.add_argument("--cache-size", default="10G", help="each worker's cache quota (default: 10G)")
    parser.add_argument("--keepalive", type=float, default=30.0, help="seconds after which a silent worker's "
                        "job goes back to the queue (default: 30)")
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    return args


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point: runs the cluster until a signal; returns the exit status."""
    args = parse_args(argv)
    if not Path(RUNNER).exists():
        print("cluster: %s is missing: run it in the build root, ./bazelw --exec remote/cluster.py" % RUNNER,
              file=sys.stderr)
        return 2
    # SIGTERM (kill, CI) ends the cluster as Ctrl-C does.
    signal.signal(signal.SIGTERM, interrupt)
    args.dir.mkdir(parents=True, exist_ok=True)
    cluster = Cluster(args)
    status = 0
    try:
        cluster.start()
        cluster.watch()
    except KeyboardInterrupt:
        log("stopping")
    except (ClusterError, OSError) as error:
        print("cluster: error: %s" % error, file=sys.stderr)
        status = 1
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        cluster.stop()
    return status


if __name__ == "__main__":
    sys.exit(main())

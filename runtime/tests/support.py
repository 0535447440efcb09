"""Helpers for tests that run the real server as a subprocess on 127.0.0.1."""

import atexit
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import app.main
import workload_server
import testing
from testing.ports import free_port

HERE = Path(__file__).absolute().parent
READONLY_EXEC = Path(testing.__file__).with_name("readonly_exec.py")
START_TIMEOUT = 15.0


def _served_sources() -> str:
    """A copy of what the servers import from the checkout (the app package, the
    launcher, the test apps), readable by every uid.

    The servers of the read-only tests run as uid 1000, which may not enter the
    checkout (a clone under /root, or in a mktemp directory, is 0700); Bazel's
    runfiles are links into it."""
    copy = Path(tempfile.mkdtemp(prefix="served-", dir=os.environ.get("TEST_TMPDIR")))
    atexit.register(shutil.rmtree, copy, ignore_errors=True)
    ignore = shutil.ignore_patterns("__pycache__")
    for package in (Path(app.main.__file__).parent, Path(workload_server.__file__).parent):
        shutil.copytree(package, copy / package.name, ignore=ignore)
    for module in HERE.glob("*.py"):
        shutil.copyfile(module, copy / module.name)
    for path in [copy, *copy.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return str(copy)


# The served sources first, then everything else this test sees, so that gunicorn and
# meinheld are found wherever the test runner put them (a venv, Bazel's runfiles).
PYTHONPATH = os.pathsep.join([_served_sources()] + [p for p in sys.path if os.path.isdir(p)])


def _interpreter() -> str:
    """This interpreter, at a path every uid may execute.

    Bazel may unpack the hermetic interpreter (ROOT/usr/bin/NAME, a binary or a
    wrapper script) with mode 0744, which uid 1000 cannot run. Then a mirror of ROOT
    made of symlinks holds a 0755 copy of it: it finds its loader, libraries and
    standard library relative to itself, as in ROOT.
    """
    real = Path(os.path.realpath(sys.executable))
    if real.stat().st_mode & 0o001:
        return sys.executable
    mirror = Path(tempfile.mkdtemp(prefix="interpreter-", dir=os.environ.get("TEST_TMPDIR")))
    atexit.register(shutil.rmtree, mirror, ignore_errors=True)
    source, target = real.parents[2], mirror
    for step in real.relative_to(real.parents[2]).parts[:-1]:
        target.chmod(0o755)
        for entry in source.iterdir():
            if entry.name != step:
                (target / entry.name).symlink_to(entry)
        source, target = source / step, target / step
        target.mkdir()
    target.chmod(0o755)
    for entry in source.iterdir():
        if entry.name != real.name:
            (target / entry.name).symlink_to(entry)
    shutil.copyfile(real, target / real.name)
    (target / real.name).chmod(0o755)
    return str(target / real.name)


PYTHON = _interpreter()


def base_env(**extra: str) -> Dict[str, str]:
    """A minimal environment for the server (no inherited settings)."""
    # PORT as the image sets it (a free one here); start() binds a free port with BIND.
    env = {"PYTHONPATH": PYTHONPATH, "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "PORT": str(free_port())}
    env.update(extra)
    return env


def server_command(module: Sequence[str] = ("-m", "workload_server")) -> List[str]:
    """The command line that starts our launcher with this interpreter."""
    return [PYTHON, *module]


def sandboxed(command: List[str], uid: Optional[int] = None,
              gid: Optional[int] = None, ro: Sequence[str] = ("/tmp", "/var/tmp")) -> List[str]:
    """Wrap ``command`` to run with ``ro`` read-only, as uid:gid."""
    wrapper = [PYTHON, str(READONLY_EXEC)]
    for directory in ro:
        wrapper += ["--ro", directory]
    if uid is not None:
        wrapper += ["--uid", str(uid)]
    if gid is not None:
        wrapper += ["--gid", str(gid)]
    return wrapper + ["--", *command]


def require_sandbox(test: unittest.TestCase, uid: int = 1000, gid: int = 1000) -> None:
    """Skip unless we are root and the interpreter runs as uid:gid there."""
    if os.geteuid() != 0:
        test.skipTest("needs root to create a mount namespace")
    probe = sandboxed([PYTHON, "-c", "import workload_server, meinheld"],
                      uid=uid, gid=gid)
    result = subprocess.run(probe, env=base_env(), capture_output=True, timeout=30)
    if result.returncode != 0:
        test.skipTest(f"interpreter not usable as uid {uid}: {result.stderr[-300:]!r}")


def wait_for(condition: Callable[[], object], timeout: float, what: str) -> None:
    """Polls CONDITION until it is true, at most TIMEOUT seconds (AssertionError
    naming WHAT then)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


def child_pids(parent: int) -> List[int]:
    """PIDs whose parent is ``parent`` (from /proc)."""
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == parent:
            children.append(int(entry.name))
    return sorted(children)


class Server:
    """A server subprocess; ``stop()`` kills it and its workers by PID."""

    def __init__(self, command: List[str], env: Dict[str, str], port: int) -> None:
        self.port = port
        self._logdir = tempfile.TemporaryDirectory(prefix="workload-server-test-")
        self.stdout_path = Path(self._logdir.name) / "stdout"
        self.stderr_path = Path(self._logdir.name) / "stderr"
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.process = subprocess.Popen(command, env=env, stdout=out, stderr=err,
                                            stdin=subprocess.DEVNULL)
        self._known_workers: set = set()

    def wait_ready(self, timeout: float = START_TIMEOUT) -> bool:
        """Wait until the port answers HTTP; False if the process exits first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                if http_request(self.port, "GET", "/", timeout=1.0)[0] == 200:
                    return True
            except OSError:
                pass
            time.sleep(0.05)
        return False

    def workers(self) -> List[int]:
        """Current worker PIDs (remembered so that stop() can reap them)."""
        pids = child_pids(self.process.pid)
        self._known_workers.update(pids)
        return pids

    def wait_workers(self, count: int, exclude: Sequence[int] = (),
                     timeout: float = 10.0) -> List[int]:
        """Wait until ``count`` workers not in ``exclude`` are running."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pids = [p for p in self.workers() if p not in exclude]
            if len(pids) >= count:
                return pids
            time.sleep(0.05)
        raise AssertionError(f"expected {count} workers, have {self.workers()}")

    def wait_log(self, pattern: str, timeout: float = START_TIMEOUT) -> "re.Match[str]":
        """Wait until the server's stderr matches ``pattern``; return the match."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = re.search(pattern, self.stderr())
            if match:
                return match
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"no {pattern!r} in the server's stderr:\n{self.stderr()[-3000:]}")

    def stderr(self) -> str:
        """What the server wrote to stderr so far."""
        return self.stderr_path.read_text(errors="replace")

    def stdout(self) -> str:
        """What the server wrote to stdout so far."""
        return self.stdout_path.read_text(errors="replace")

    def stop(self) -> None:
        """Kill master and workers (by PID), wait, remove the logs."""
        self.workers()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        for pid in self._known_workers:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self._logdir.cleanup()


def start(test: unittest.TestCase, env: Dict[str, str], command: Optional[List[str]] = None,
          port: Optional[int] = None, expect_ready: bool = True) -> Server:
    """Start a server (stopped again in the test's cleanup)."""
    port = port or free_port()
    env = dict(env)
    env.setdefault("BIND", f"127.0.0.1:{port}")
    server = Server(command or server_command(), env, port)
    test.addCleanup(server.stop)
    if expect_ready and not server.wait_ready():
        test.fail(f"server did not start:\n{server.stderr()[-3000:]}")
    return server


def http_request(port: int, method: str, path: str, body: bytes = b"",
                 headers: Sequence[Tuple[str, str]] = (), timeout: float = 10.0,
                 chunked: bool = False) -> Tuple[int, bytes]:
    """Send one HTTP/1.0-style request on a new socket; return (status, body)."""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in headers]
    if chunked:
        lines.append("Transfer-Encoding: chunked")
        size = 65536
        payload = b"".join(
            b"%x\r\n%s\r\n" % (len(body[i:i + size]), body[i:i + size])
            for i in range(0, len(body), size)
        ) + b"0\r\n\r\n"
    else:
        if body or method == "POST":
            lines.append(f"Content-Length: {len(body)}")
        payload = body
    request = ("\r\n".join(lines) + "\r\n\r\n").encode() + payload
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        try:
            sock.sendall(request)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer (413) and close before reading it all
        data = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    if not head:
        raise ConnectionError("no response")
    return int(head.split()[1]), rest

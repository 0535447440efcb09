"""Shared helpers: start meinheld (directly or under gunicorn) on a free
127.0.0.1 port with the Python running the tests, talk raw HTTP to it, and
wait for conditions with a deadline (never a fixed sleep)."""

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SERVE = os.path.join(HERE, "serve.py")
PYTHON = sys.executable


def wait_until(condition, timeout, interval=0.02, message="condition"):
    """Polls CONDITION until it returns a true value, at most TIMEOUT seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.1f s waiting for %s" % (timeout, message))
        time.sleep(interval)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A server process on 127.0.0.1:PORT; its stdout lines are collected."""

    def __init__(self, argv, env=None, port=None):
        self.port = port
        self.lines = []
        self._lock = threading.Lock()
        self.stderr = tempfile.TemporaryFile()
        full_env = dict(os.environ)
        full_env.pop("PYTHONWARNINGS", None)
        full_env.update(env or {})
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self.stderr,
            env=full_env, cwd=HERE, start_new_session=True)
        self.pid = self.proc.pid
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for raw in self.proc.stdout:
            with self._lock:
                self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))

    def has_line(self, prefix):
        with self._lock:
            return [line for line in self.lines if line.startswith(prefix)]

    def stderr_text(self):
        self.stderr.seek(0)
        return self.stderr.read().decode("utf-8", "replace")

    def alive(self):
        return self.proc.poll() is None

    def signal(self, sig):
        if self.alive():
            os.kill(self.pid, sig)

    def wait_exit(self, timeout):
        """Exit code, waiting at most TIMEOUT seconds (AssertionError if still running);
        by then every line the server printed is in self.lines."""
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError("server %d still running after %.1f s" % (self.pid, timeout))
        self._reader.join(timeout)  # the pipe's end: the last lines may still be in it
        return code

    def stop(self):
        """Kills the server and its process group (its own session) if still running."""
        if self.proc.poll() is None:
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            pass
        self._reader.join(5)
        self.proc.stdout.close()
        self.stderr.close()

    def connect(self, rcvbuf=None, timeout=10):
        s = socket.socket()
        if rcvbuf:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        s.settimeout(timeout)
        try:
            s.connect(("127.0.0.1", self.port))
        except BaseException:
            s.close()
            raise
        return s

    def get(self, path="/", timeout=5):
        """One GET on a new connection; (status, headers, body)."""
        with self.connect(timeout=timeout) as s:
            s.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
            return Reader(s).response()

    def wait_ready(self, timeout=15):
        def ready():
            if not self.alive():
                raise AssertionError("server exited (%s) before serving:\n%s"
                                     % (self.proc.returncode, self.stderr_text()[-3000:]))
            try:
                return self.get("/", timeout=2)[0] == 200
            except OSError:
                return False
        wait_until(ready, timeout, 0.05, "the server to answer on port %d" % self.port)


def _start(test, argv, env, ready_timeout):
    """Server(ARGV(port), ENV) on a free port, ready within READY_TIMEOUT s; started again
    on another port if some other process took that one first. Cleaned up by TEST."""
    for attempt in range(5):
        port = free_port()
        server = Server(argv(port), env=env, port=port)
        try:
            server.wait_ready(ready_timeout)
        except AssertionError:
            text = server.stderr_text()
            server.stop()
            if "Address already in use" in text and attempt < 4:
                continue
            raise
        test.addCleanup(server.stop)
        return server


def start_direct(test, **options):
    """meinheld run directly by serve.py with OPTIONS (see serve.py); cleaned up by TEST.
    $MEINHELD_TEST_THREADS, if set, is the threads option's default: the same tests
    then run on the pool of threads that share the loop."""
    options.setdefault("graceful", 10)
    if os.environ.get("MEINHELD_TEST_THREADS"):
        options.setdefault("threads", int(os.environ["MEINHELD_TEST_THREADS"]))
    env = options.pop("env", None)
    wrapper = options.pop("wrapper", None) or []
    return _start(test, lambda port: wrapper + [PYTHON, SERVE, str(port), json.dumps(options)], env, 15)


def start_gunicorn(test, worker_class, *args, workers=1, app="serve:app", env=None):
    """gunicorn serving APP (serve:app) with WORKER_CLASS, extra ARGS and ENV."""
    def argv(port):
        return [PYTHON, "-m", "gunicorn", "--no-control-socket", "-w", str(workers), "-k", worker_class,
                "-b", "127.0.0.1:%d" % port, "--worker-tmp-dir", "/dev/shm"] + list(args) + [app]
    env = dict(env or {})
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [HERE, os.environ.get("PYTHONPATH")]))
    return _start(test, argv, env, 30)


def children(pid):
    """PIDs of the direct children of PID."""
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def open_files(pid):
    """Targets of PID's open file descriptors above 2 (0-2 are the harness's)."""
    targets = []
    base = "/proc/%d/fd" % pid
    for name in os.listdir(base):
        if int(name) <= 2:
            continue
        try:
            targets.append(os.readlink(os.path.join(base, name)))
        except OSError:
            pass
    return targets


def server_read_all(server_port, client_sock):
    """True when the server's end of CLIENT_SOCK's connection has nothing left unread
    in its receive queue (from /proc/net/tcp)."""
    client_port = client_sock.getsockname()[1]
    local = "0100007F:%04X" % server_port
    remote = "0100007F:%04X" % client_port
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if fields[1] == local and fields[2] == remote:
                rx_queue = int(fields[4].split(":")[1], 16)
                return rx_queue == 0
    return False


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for %d" % pid)


class Closed(Exception):
    """The peer closed the connection before a complete response."""


class Reader:
    """Reads HTTP/1.x responses from a socket (a stream of them, for pipelining)."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def _fill(self):
        data = self.sock.recv(262144)
        if not data:
            raise Closed("connection closed (%d bytes pending)" % len(self.buf))
        self.buf += data

    def _line(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line, self.buf = self.buf[:i], self.buf[i + 2:]
                return line
            self._fill()

    def _exact(self, n):
        chunks = []
        have = len(self.buf)
        if have >= n:
            data, self.buf = self.buf[:n], self.buf[n:]
            return data
        chunks.append(self.buf)
        self.buf = b""
        while have < n:
            data = self.sock.recv(min(n - have, 1 << 20))
            if not data:
                raise Closed("connection closed after %d of %d body bytes" % (have, n))
            chunks.append(data)
            have += len(data)
        return b"".join(chunks)

    def head(self):
        """(status, headers dict with lower-case names)."""
        line = self._line()
        parts = line.split(b" ", 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/"):
            raise AssertionError("bad status line %r" % line)
        status = int(parts[1])
        headers = {}
        while True:
            line = self._line()
            if not line:
                break
            name, _, value = line.partition(b":")
            headers[name.strip().lower().decode("latin-1")] = value.strip().decode("latin-1")
        return status, headers

    def body(self, headers, method="GET", status=200):
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            return b""
        if headers.get("transfer-encoding", "").lower() == "chunked":
            parts = []
            while True:
                size = int(self._line().split(b";")[0], 16)
                if size == 0:
                    while self._line():
                        pass
                    return b"".join(parts)
                parts.append(self._exact(size))
                self._line()
        if "content-length" in headers:
            return self._exact(int(headers["content-length"]))
        parts = [self.buf]
        self.buf = b""
        while True:
            data = self.sock.recv(65536)
            if not data:
                return b"".join(parts)
            parts.append(data)

    def response(self, method="GET"):
        status, headers = self.head()
        return status, headers, self.body(headers, method, status)


def closed_or_error(sock, timeout):
    """True when SOCK is closed by the peer (EOF or reset) within TIMEOUT s; any bytes
    received before are returned as the second item."""
    sock.settimeout(timeout)
    received = b""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            data = sock.recv(65536)
            if not data:
                return True, received
            received += data
    except socket.timeout:
        return False, received
    except ConnectionResetError:
        return True, received
    return False, received


class ServerTestCase(unittest.TestCase):
    """Base class: fails a test when its server wrote a crash or leak hint to stderr."""

    maxDiff = None


def tx_queue(server_port, client_sock):
    """Bytes the server's end of CLIENT_SOCK's connection has queued but not sent."""
    local = "0100007F:%04X" % server_port
    remote = "0100007F:%04X" % client_sock.getsockname()[1]
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if fields[1] == local and fields[2] == remote:
                return int(fields[4].split(":")[0], 16)
    return 0

"""The real image, read-only in podman, serving the kit's hello app: serves, logs cleanly,
stops gracefully, refuses /tmp."""

import os
import random
import re
import socket
import tempfile
import threading
import time
import unittest
from pathlib import Path
from typing import Dict, List, Sequence

import containers
from testing import podman
import image_settings

STORE: podman.Store
GRACEFUL_TIMEOUT = 20
HALF_SENT_DELAY = 4  # seconds between SIGTERM and the rest of the half-sent requests
GET_LOOP = b"GET /loop HTTP/1.1\r\nHost: t\r\n\r\n"
# Lines gunicorn or Python write for problems (the settings line's "errorlog" key is no match).
PROBLEM = re.compile(r"\[(WARNING|ERROR|CRITICAL)\]|Traceback|\b(warning|error|exception)\b", re.I)
ACCESS = re.compile(r'^127\.0\.0\.1 - - \[[^]]+\] "(GET|HEAD) /\S* HTTP/1\.1" 200 (14|0) "-" "-"$')
INFO = re.compile(r"^\[[^]]+\] \[\d+\] \[INFO\] ")
SAFE = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@"
SEED_CONF = """\
import os
bind = os.environ["BIND"] if "BIND" in os.environ else "127.0.0.1:" + os.environ["PORT"]
workers = 1
keepalive = 120
errorlog = "-"
"""


def setUpModule() -> None:
    global STORE
    STORE = containers.loaded_store()


def tearDownModule() -> None:
    STORE.close()


def random_target(rng: random.Random) -> str:
    """A random origin-form target: segments of safe and percent-encoded bytes, maybe a query."""
    def part(size: int) -> str:
        return "".join(rng.choice(SAFE) if rng.random() < 0.8 else "%%%02X" % rng.randrange(256)
                       for _ in range(rng.randrange(size)))
    path = "/" + "/".join(part(12) for _ in range(rng.randrange(6)))
    if rng.random() < 0.5:
        path += "?" + "&".join(f"{part(8)}={part(16)}" for _ in range(rng.randrange(1, 5)))
    return path


class ServeTest(unittest.TestCase):
    """GET and HEAD on random targets, then the logs, at LOG_LEVEL=info with the access log."""

    def setUp(self) -> None:
        self.container = containers.Container(STORE, "serve", {"LOG_LEVEL": "info", "ACCESS_LOG": "-"}, hello=True)
        self.addCleanup(self.container.remove)
        self.container.run()
        self.container.wait_ready()

    def test_random_targets_get_and_head(self) -> None:
        rng = random.Random(20240601)
        targets = ["/a%0Ab%0D%0A%22c", "/?q=%0A%22"] + [random_target(rng) for _ in range(250)]
        with socket.create_connection(("127.0.0.1", self.container.port), timeout=10) as sock:
            for target in targets:
                sock.sendall(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
                status, headers, body = podman.read_response(sock)
                self.assertEqual((status, body), (200, b"Hello, world!\n"), target)
        for target in targets[:50]:
            raw = f"HEAD {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
            with socket.create_connection(("127.0.0.1", self.container.port), timeout=10) as sock:
                sock.sendall(raw)
                data = b""
                while chunk := sock.recv(65536):
                    data += chunk
            head, _, rest = data.partition(b"\r\n\r\n")
            self.assertTrue(head.startswith(b"HTTP/1.1 200 "), (target, head))
            self.assertIn(b"Content-Length: 14", head)
            self.assertEqual(rest, b"", target)  # no body after the head
        deadline = time.monotonic() + 20  # conmon writes the log file asynchronously
        while True:
            lines = self.container.logs().splitlines()
            access = [line for line in lines if ACCESS.match(line)]
            if len(access) >= len(targets) + 50 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        self.assertEqual([line for line in lines if PROBLEM.search(line)], [])
        # One line per request: an encoded newline or quote in a target cannot split one.
        self.assertEqual([line for line in lines if not (ACCESS.match(line) or INFO.match(line)
                                                         or line.startswith("{"))], [])
        self.assertGreaterEqual(len(access), len(targets) + 50)


class GracefulStopTest(unittest.TestCase):
    """SIGTERM with requests in every state, as a rolling update sends it: an idle
    keep-alive connection is closed at once; requests still arriving (a POST body, a
    GET's headers) are completed HALF_SENT_DELAY seconds later and answered; keep-alive
    clients get an answer to every request the server took, then a closed connection;
    the container exits 0 as soon as nothing is in flight, long before GRACEFUL_TIMEOUT.
    """

    def test_requests_in_every_state_complete_and_exit_is_0(self) -> None:
        container = containers.Container(STORE, "term", {"GRACEFUL_TIMEOUT": str(GRACEFUL_TIMEOUT),
                                                    "WEB_CONCURRENCY": "2", "KEEP_ALIVE": "30"}, hello=True)
        self.addCleanup(container.remove)
        container.run()
        container.wait_ready()
        container.wait_workers(2)
        port = container.port
        idle = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.addCleanup(idle.close)
        idle.sendall(b"GET /idle HTTP/1.1\r\nHost: t\r\n\r\n")
        self.assertEqual(podman.read_response(idle)[0], 200)
        # Requests half sent: POST bodies and a GET's headers.
        partial = []
        for _ in range(4):
            sock = socket.create_connection(("127.0.0.1", port), timeout=30)
            self.addCleanup(sock.close)
            sock.sendall(b"POST /upload HTTP/1.1\r\nHost: t\r\nContent-Length: 200000\r\n\r\n" + b"a" * 100000)
            partial.append((sock, b"a" * 100000, 405))
        sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.addCleanup(sock.close)
        sock.sendall(b"GET /half HTTP/1.1\r\nHost: t\r\n")
        partial.append((sock, b"\r\n", 200))
        # Keep-alive clients sending GETs as fast as they can.
        counts: Dict[str, int] = {"ok": 0}
        failures: List[str] = []
        lock = threading.Lock()
        stop = threading.Event()

        def client() -> None:
            with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
                while not stop.is_set():
                    try:
                        conn.sendall(GET_LOOP)
                        status, _, body = podman.read_response(conn)
                    except (ConnectionError, socket.timeout) as error:
                        with lock:
                            failures.append(str(error))
                        return
                    with lock:
                        counts["ok"] += status == 200 and body == b"Hello, world!\n"

        threads = [threading.Thread(target=client) for _ in range(6)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 30
        while counts["ok"] < 100 and time.monotonic() < deadline:
            time.sleep(0.05)
        started = time.monotonic()
        STORE.podman("kill", "--signal", "TERM", container.name)
        self.assertEqual(idle.recv(1), b"", "the idle keep-alive connection was not closed")
        self.assertLess(time.monotonic() - started, HALF_SENT_DELAY, "the idle connection outlived the delay")
        time.sleep(HALF_SENT_DELAY - (time.monotonic() - started))  # the clients' own pace
        for conn, rest, _ in partial:
            conn.sendall(rest)
        for conn, _, expected in partial:
            status, headers, _ = podman.read_response(conn)
            self.assertEqual((status, headers.get("connection")), (expected, "close"))
        code = container.wait_exit(timeout=GRACEFUL_TIMEOUT + 10)
        elapsed = time.monotonic() - started
        stop.set()
        for thread in threads:
            thread.join(timeout=10)
        self.assertEqual(code, 0, container.logs()[-2000:])
        self.assertLess(elapsed, HALF_SENT_DELAY + (GRACEFUL_TIMEOUT - HALF_SENT_DELAY) / 2)
        # A client only fails when its connection closes before any byte of an answer,
        # and every request the server logged reached its client.
        for failure in failures:
            self.assertRegex(failure, r"reset by peer|after 0 bytes of response head|Broken pipe")
        logs = container.logs()
        served = len(re.findall(r'"GET /loop HTTP/1.1" 200 ', logs))
        self.assertGreater(counts["ok"], 0)
        self.assertEqual(served, counts["ok"])
        self.assertIn("Handling signal: term", logs)
        self.assertIn("Shutting down: Master", logs)


class HeartbeatInTmpTest(unittest.TestCase):
    """tiangolo's setup keeps worker heartbeats in /tmp, which production makes read-only."""

    def conf_dir(self, text: str) -> str:
        """A directory holding gunicorn_conf.py with TEXT, readable by uid 1000."""
        directory = Path(tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR")))
        (directory / "gunicorn_conf.py").write_text(text)
        directory.chmod(0o755)
        (directory / "gunicorn_conf.py").chmod(0o644)
        return str(directory)

    def run_to_exit(self, purpose: str, env: Dict[str, str], flags: List[str],
                    args: Sequence[str] = ()) -> containers.Container:
        """Runs a container that must exit by itself within 30 s."""
        container = containers.Container(STORE, purpose, env, flags, args, hello=True)
        self.addCleanup(container.remove)
        container.run()
        self.assertNotEqual(container.wait_exit(timeout=30), 0, container.logs())
        return container

    def test_gunicorn_conf_with_tmp_heartbeat_fails_in_one_line(self) -> None:
        conf = self.conf_dir(SEED_CONF + 'worker_tmp_dir = "/tmp"\n')
        container = self.run_to_exit("conf", {"GUNICORN_CONF": "/conf/gunicorn_conf.py"},
                                     ["--volume", f"{conf}:/conf:ro"])
        self.assertEqual(container.logs().strip().splitlines()[-1],
                         "workload_server: error: GUNICORN_CONF worker_tmp_dir: /tmp is not writable by uid 1000")

    def test_seed_command_fails(self) -> None:
        """The seed's command: gunicorn with meinheld's own worker and tiangolo's conf."""
        conf = self.conf_dir(SEED_CONF)
        container = self.run_to_exit(
            "seed", {"PYTHONDONTWRITEBYTECODE": "1"},
            ["--volume", f"{conf}:/conf:ro", "--entrypoint", image_settings.settings()["python"]],
            ["-m", "gunicorn", "-k", "egg:meinheld#gunicorn_worker", "-c", "/conf/gunicorn_conf.py",
             "app.main:app"])
        self.assertIn("No usable temporary directory", container.logs())


if __name__ == "__main__":
    unittest.main()

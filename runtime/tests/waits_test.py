"""A worker keeps serving while its requests wait: with threads, one worker answers N
requests that each wait 200 ms in about 200 ms, not N x 200 ms, however the app waits:
an HTTP upstream through http.client, time.sleep, a name lookup, a C call that waits
without the GIL. Each request keeps its own thread-local, context variable and environ
across its wait. With THREADS=1 (the control) the waits add up.

The module runs in a network and mount namespace of its own (testing/netns.py): its
DNS server on 127.0.0.1:53 answers after 200 ms. (psycopg2 against PostgreSQL is
checked by the postgres example in CI: examples/postgres/example.json.)
"""

import http.server
import json
import os
import signal
import tempfile
import threading
import time
import unittest
from concurrent.futures import ThreadPoolExecutor
from typing import List, Tuple

import support
from testing import netns

from waiting_apps import WAIT

N = 16  # requests at once, one worker
BOUND = 6 * WAIT  # far below N x WAIT: only overlapping waits get there
HELD: list = []  # requests the upstream holds until RELEASE
HELD_LOCK = threading.Lock()
RELEASE = threading.Event()
DNS: netns.SlowDns
UPSTREAM: "_Upstream"


class _SlowHandler(http.server.BaseHTTPRequestHandler):
    """Answers after WAIT seconds; GET /hold after a request to /release."""

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        if self.path == "/release":
            RELEASE.set()
        elif self.path == "/hold":
            with HELD_LOCK:
                HELD.append(self)
            RELEASE.wait(60)
        else:
            time.sleep(WAIT)
        self.send_response(200)
        self.send_header("Content-Length", "8")
        self.end_headers()
        self.wfile.write(b"upstream")

    def log_message(self, *args: object) -> None:
        pass


class _Upstream(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 4 * N  # all of them at once (the default 5 drops SYNs: 1 s retries)


def setUpModule() -> None:
    global DNS, UPSTREAM
    if os.geteuid() != 0:
        raise unittest.SkipTest("needs root for its network namespace")
    netns.enter(tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR")))
    DNS = netns.SlowDns(WAIT)
    UPSTREAM = _Upstream(("127.0.0.1", 0), _SlowHandler)
    threading.Thread(target=UPSTREAM.serve_forever, daemon=True).start()


def tearDownModule() -> None:
    UPSTREAM.shutdown()
    DNS.close()


class WaitsTest(unittest.TestCase):
    def serve(self, threads: str = str(N)) -> support.Server:
        env = support.base_env(APP_MODULE="waiting_apps:app", WEB_CONCURRENCY="1", THREADS=threads,
                               ACCESS_LOG="")
        server = support.start(self, env)
        server.wait_workers(1)
        return server

    def at_once(self, server: support.Server, paths: List[str]) -> Tuple[float, List[Tuple[int, bytes]]]:
        """Sends PATHS at once, each on its own connection; (seconds until all were
        answered, [(status, body)])."""
        started = time.monotonic()
        with ThreadPoolExecutor(len(paths)) as pool:
            answers = list(pool.map(lambda path: support.http_request(server.port, "GET", path, timeout=30),
                                    paths))
        return time.monotonic() - started, answers

    def overlaps(self, path: str, body: bytes) -> None:
        server = self.serve()
        elapsed, answers = self.at_once(server, [path] * N)
        self.assertEqual(answers, [(200, body)] * N)
        self.assertLess(elapsed, BOUND, "%d requests waiting %.1f s each took %.2f s" % (N, WAIT, elapsed))

    def test_http_upstream(self) -> None:
        self.overlaps("/upstream?%d" % UPSTREAM.server_address[1], b"upstream")

    def test_time_sleep(self) -> None:
        self.overlaps("/sleep", b"slept")

    def test_name_lookup(self) -> None:
        before = DNS.queries
        self.overlaps("/lookup?slow.waits.test", b"127.0.0.1")
        self.assertGreaterEqual(DNS.queries - before, N, "the lookups did not reach the slow DNS server")

    def test_c_call_without_the_gil(self) -> None:
        """No hook knows this call: the pool's monitor passes the loop on."""
        self.overlaps("/cwait", b"waited")

    def test_state_stays_per_request(self) -> None:
        server = self.serve()
        elapsed, answers = self.at_once(server, ["/state?%d" % i for i in range(N)])
        self.assertLess(elapsed, BOUND)
        states = [json.loads(body) for status, body in answers]
        for i, state in enumerate(states):
            self.assertEqual((state["local"], state["context"], state["environ"]), (str(i),) * 3, state)
        self.assertEqual(len({state["thread"] for state in states}), N, "requests shared a thread")

    def test_graceful_stop_answers_requests_in_flight(self) -> None:
        """SIGTERM while 64 requests wait on their upstream (two workers of 32
        threads): every one is answered, then the server exits 0."""
        env = support.base_env(APP_MODULE="waiting_apps:app", WEB_CONCURRENCY="2", THREADS="32",
                               ACCESS_LOG="")
        server = support.start(self, env)
        server.wait_workers(2)
        RELEASE.clear()
        HELD.clear()
        path = "/upstream?%d/hold" % UPSTREAM.server_address[1]
        with ThreadPoolExecutor(64) as pool:
            answers = [pool.submit(support.http_request, server.port, "GET", path, timeout=60) for _ in range(64)]
            support.wait_for(lambda: len(HELD) == 64, 30, "64 requests to reach the upstream")
            server.process.send_signal(signal.SIGTERM)
            support.wait_for(lambda: server.stderr().count("Stopping gracefully") == 2, 30,
                             "both workers to stop gracefully")
            support.http_request(UPSTREAM.server_address[1], "GET", "/release")
            self.assertEqual([answer.result() for answer in answers], [(200, b"upstream")] * 64)
        self.assertEqual(server.process.wait(30), 0)

    def test_one_thread_adds_the_waits_up(self) -> None:
        """The control: THREADS=1 serves on the loop's own thread."""
        server = self.serve(threads="1")
        elapsed, answers = self.at_once(server, ["/sleep"] * 4)
        self.assertEqual(answers, [(200, b"slept")] * 4)
        self.assertGreaterEqual(elapsed, 4 * WAIT)


if __name__ == "__main__":
    unittest.main()

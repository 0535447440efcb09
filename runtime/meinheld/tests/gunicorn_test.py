"""meinheld under gunicorn: meinheld's own worker class (meinheld.gmeinheld) and a
minimal one (gworker.Worker): a SIGKILLed worker is replaced while the master lives
on, SIGTERM is graceful (a request half-sent at SIGTERM and completed 4 s later is
answered; the master exits 0 well before the graceful timeout), and a hung worker
is detected by gunicorn's heartbeat."""

import os
import signal
import time
import unittest

from support import Reader, ServerTestCase, server_read_all, start_gunicorn, wait_until

MEINHELD_WORKER = "meinheld.gmeinheld.MeinheldWorker"
MINIMAL_WORKER = "gworker.Worker"


def worker_pid(server):
    return int(server.get("/pid")[2])


class GunicornTestMixin:
    WORKER = None

    def start(self, *args):
        return start_gunicorn(self, self.WORKER, "--graceful-timeout", "10", "--keep-alive", "30", *args)

    def test_sigterm_half_sent_request(self):
        server = self.start()
        s = server.connect(timeout=15)
        self.addCleanup(s.close)
        s.sendall(b"GET /seq?late HTTP/1.1\r\nHost: a\r\n")
        wait_until(lambda: server_read_all(server.port, s), 5, message="the worker to read the head")
        start = time.monotonic()
        server.signal(signal.SIGTERM)
        while time.monotonic() < start + 4:
            self.assertTrue(server.alive(), "gunicorn exited with a request half-sent")
            time.sleep(0.05)
        s.sendall(b"\r\n")
        status, headers, body = Reader(s).response()
        self.assertEqual((status, body), (200, b"late"))
        code = server.wait_exit(5)
        self.assertEqual(code, 0, server.stderr_text()[-3000:])
        self.assertLess(time.monotonic() - start, 8)

    def test_sigterm_idle(self):
        server = self.start()
        start = time.monotonic()
        server.signal(signal.SIGTERM)
        self.assertEqual(server.wait_exit(5), 0, server.stderr_text()[-3000:])
        self.assertLess(time.monotonic() - start, 2.5)


class MeinheldWorkerTest(GunicornTestMixin, ServerTestCase):
    WORKER = MEINHELD_WORKER

    def test_sigkill_worker_replaced(self):
        server = self.start()
        first = worker_pid(server)
        os.kill(first, signal.SIGKILL)

        def replaced():
            try:
                return worker_pid(server) != first
            except (OSError, ValueError, AssertionError):
                return False

        wait_until(replaced, 20, 0.1, "a new worker")
        self.assertTrue(server.alive(), server.stderr_text()[-3000:])
        self.assertNotIn("TypeError", server.stderr_text())
        # again, and the master still shuts down cleanly
        second = worker_pid(server)
        os.kill(second, signal.SIGKILL)
        wait_until(lambda: worker_pid(server) not in (first, second) if server.alive() else True, 20, 0.1,
                   "another worker")
        self.assertTrue(server.alive(), server.stderr_text()[-3000:])
        server.signal(signal.SIGTERM)
        self.assertEqual(server.wait_exit(10), 0)

    def test_error_log_reaches_gunicorn(self):
        server = self.start()
        self.assertEqual(server.get("/boom")[0], 500)
        wait_until(lambda: "RuntimeError: boom" in server.stderr_text(), 5, message="the traceback in the log")
        self.assertTrue(server.alive())

    def test_hung_worker_detected_by_heartbeat(self):
        server = self.start("--timeout", "2")
        first = worker_pid(server)
        hung = server.connect(timeout=30)
        self.addCleanup(hung.close)
        hung.sendall(b"GET /hang HTTP/1.1\r\nHost: a\r\n\r\n")

        def replaced():
            try:
                return worker_pid(server) != first
            except (OSError, ValueError, AssertionError):
                return False

        wait_until(replaced, 15, 0.2, "gunicorn to replace the hung worker")
        self.assertIn("WORKER TIMEOUT", server.stderr_text())


class MinimalWorkerTest(GunicornTestMixin, ServerTestCase):
    WORKER = MINIMAL_WORKER


if __name__ == "__main__":
    unittest.main()

"""Graceful stop: SIGTERM calls server.stop(graceful) (serve.py). The server stops
accepting, closes idle keep-alive connections at once, finishes every request already
on a connection (even one still arriving) within the graceful timeout, then run()
returns and the process exits 0; with nothing in flight it exits at once."""

import signal
import socket
import time
import unittest

from support import (Reader, ServerTestCase, closed_or_error, server_read_all, start_direct, tx_queue,
                     wait_until)

GRACEFUL = 10


class ShutdownTest(ServerTestCase):
    def setUp(self):
        self.server = start_direct(self, keepalive=30, graceful=GRACEFUL)

    def sigterm(self):
        self.server.signal(signal.SIGTERM)
        return time.monotonic()

    def assert_exits_zero(self, within):
        code = self.server.wait_exit(within)
        self.assertEqual(code, 0, self.server.stderr_text()[-2000:])
        self.assertTrue(self.server.has_line("STOPPED"))

    def test_nothing_in_flight_exits_at_once(self):
        start = self.sigterm()
        self.assert_exits_zero(5)
        self.assertLess(time.monotonic() - start, 0.5)

    def test_idle_keepalive_connections_closed_at_once(self):
        socks = []
        for _ in range(6):
            s = self.server.connect()
            self.addCleanup(s.close)
            s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
            self.assertEqual(Reader(s).response()[0], 200)
            socks.append(s)
        start = self.sigterm()
        for s in socks:
            closed, data = closed_or_error(s, 3)
            self.assertTrue(closed, "idle keep-alive connection left open after SIGTERM")
            self.assertEqual(data, b"")
        self.assert_exits_zero(3)
        self.assertLess(time.monotonic() - start, 1.5)

    def test_half_sent_request_completed_4s_later(self):
        s = self.server.connect(timeout=15)
        self.addCleanup(s.close)
        s.sendall(b"GET /seq?late HTTP/1.1\r\nHost: a\r\n")
        wait_until(lambda: server_read_all(self.server.port, s), 5, message="the server to read the head")
        idle = self.server.connect()
        self.addCleanup(idle.close)
        idle.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        self.assertEqual(Reader(idle).response()[0], 200)
        start = self.sigterm()
        self.assertTrue(closed_or_error(idle, 3)[0], "idle connection kept")
        # a new connection is not served any more
        late = socket.socket()
        self.addCleanup(late.close)
        late.settimeout(5)
        try:
            late.connect(("127.0.0.1", self.server.port))
            late.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
        except OSError:
            late = None
        # the client completes its request 4 s after SIGTERM
        while time.monotonic() < start + 4:
            self.assertTrue(self.server.alive(), "server exited with a request half-sent")
            if late is not None:
                late.settimeout(0.05)
                try:
                    self.assertEqual(late.recv(100), b"", "a connection made after SIGTERM was served")
                    late = None
                except socket.timeout:
                    pass
                except ConnectionResetError:
                    late = None
            else:
                time.sleep(0.05)
        s.sendall(b"\r\n")
        status, headers, body = Reader(s).response()
        self.assertEqual((status, body), (200, b"late"))
        self.assertEqual(headers.get("connection", "").lower(), "close")
        self.assertTrue(closed_or_error(s, 3)[0])
        self.assert_exits_zero(3)
        self.assertLess(time.monotonic() - start, GRACEFUL - 3)

    def test_request_being_processed(self):
        s = self.server.connect(timeout=15)
        self.addCleanup(s.close)
        s.sendall(b"GET /sleep?2 HTTP/1.1\r\nHost: a\r\n\r\n")
        wait_until(lambda: self.server.has_line("IN_APP"), 5, message="the app to start")
        start = self.sigterm()
        status, headers, body = Reader(s).response()
        self.assertEqual((status, body), (200, b"slept\n"))
        self.assertEqual(headers.get("connection", "").lower(), "close")
        self.assert_exits_zero(5)
        self.assertLess(time.monotonic() - start, 4)

    def test_response_to_slow_reader(self):
        size = 32 << 20
        s = self.server.connect(rcvbuf=16384, timeout=15)
        self.addCleanup(s.close)
        s.sendall(b"GET /big?32 HTTP/1.1\r\nHost: a\r\n\r\n")
        reader = Reader(s)
        status, headers = reader.head()
        self.assertEqual(status, 200)
        # the server is blocked on this reader's window
        wait_until(lambda: tx_queue(self.server.port, s) > 0, 5, message="the server to wait for the reader")
        start = self.sigterm()
        received = len(reader.buf)
        reader.buf = b""
        # read at about 12 MiB/s: the response takes well over a second to complete
        while received < size:
            data = s.recv(min(1 << 20, size - received))
            if not data:
                break
            received += len(data)
            time.sleep(0.08 * len(data) / (1 << 20))
        self.assertEqual(received, size, "response cut after SIGTERM")
        self.assert_exits_zero(5)
        self.assertLess(time.monotonic() - start, GRACEFUL - 2)


class GracefulTimeoutTest(ServerTestCase):
    def setUp(self):
        self.server = start_direct(self, keepalive=30, graceful=3)

    def test_timeout_ends_the_loop(self):
        s = self.server.connect()
        self.addCleanup(s.close)
        s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n")  # never completed
        wait_until(lambda: server_read_all(self.server.port, s), 5, message="the server to read the head")
        start = time.monotonic()
        self.server.signal(signal.SIGTERM)
        code = self.server.wait_exit(10)
        elapsed = time.monotonic() - start
        self.assertEqual(code, 0)
        self.assertGreater(elapsed, 2.5)
        self.assertLess(elapsed, 5)


if __name__ == "__main__":
    unittest.main()

"""Slow clients: a request's headers must be complete within the configured header
timeout counted from its first byte (trickling bytes does not extend it), and a body
may not stall longer than the body timeout."""

import time
import unittest

from support import Closed, Reader, ServerTestCase, closed_or_error, start_direct


def answer_or_close(sock, timeout):
    """(status or None, seconds) once the server answers or closes SOCK."""
    start = time.monotonic()
    sock.settimeout(timeout)
    try:
        status = Reader(sock).response()[0]
    except (Closed, ConnectionResetError):
        status = None
    return status, time.monotonic() - start


class HeaderTimeoutTest(ServerTestCase):
    HEADER_TIMEOUT = 2

    def setUp(self):
        self.server = start_direct(self, keepalive=10, header_timeout=self.HEADER_TIMEOUT, body_timeout=3)

    def test_trickled_headers_bounded(self):
        with self.server.connect() as s:
            start = time.monotonic()
            s.sendall(b"GET / HTTP/1.1\r\n")
            deadline = start + self.HEADER_TIMEOUT + 6
            closed = False
            # one header byte every 0.2 s: a per-byte timer would never fire
            while time.monotonic() < deadline:
                try:
                    s.sendall(b"X")
                except (BrokenPipeError, ConnectionResetError):
                    closed = True
                    break
                done, data = closed_or_error(s, 0.2)
                if done or data:
                    closed = True
                    if data:
                        self.assertRegex(data, rb"^HTTP/1\.[01] 408 ")
                    break
            elapsed = time.monotonic() - start
            self.assertTrue(closed, "a trickling client kept its connection for %.1f s" % elapsed)
            self.assertGreater(elapsed, self.HEADER_TIMEOUT - 0.5)
            self.assertLess(elapsed, self.HEADER_TIMEOUT + 2.5)
        self.assertEqual(self.server.get("/")[0], 200)

    def test_header_deadline_on_keepalive_connection(self):
        """The deadline starts at the first byte of each request, not at accept()."""
        with self.server.connect() as s:
            reader = Reader(s)
            for _ in range(3):
                s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
                self.assertEqual(reader.response()[0], 200)
            s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n")
            status, elapsed = answer_or_close(s, self.HEADER_TIMEOUT + 6)
            self.assertIn(status, (408, None))
            self.assertLess(elapsed, self.HEADER_TIMEOUT + 2.5)

    def test_fast_enough_request_is_served(self):
        with self.server.connect() as s:
            for piece in (b"GET /seq?ok HTTP/1.1\r\n", b"Host: a\r\n", b"\r\n"):
                s.sendall(piece)
                time.sleep(0.3)  # slow, but well within the header timeout
            status, _, body = Reader(s).response()
            self.assertEqual((status, body), (200, b"ok"))


class BodyTimeoutTest(ServerTestCase):
    BODY_TIMEOUT = 2

    def setUp(self):
        self.server = start_direct(self, keepalive=10, header_timeout=5, body_timeout=self.BODY_TIMEOUT)

    def test_stalled_body(self):
        with self.server.connect() as s:
            s.sendall(b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n0123456789")
            status, elapsed = answer_or_close(s, self.BODY_TIMEOUT + 8)
            self.assertIn(status, (408, None))
            self.assertGreater(elapsed, self.BODY_TIMEOUT - 0.5)
            self.assertLess(elapsed, self.BODY_TIMEOUT + 2.5)
        self.assertEqual(self.server.get("/")[0], 200)

    def test_slow_but_steady_body(self):
        """A body whose bytes keep coming (each gap under the timeout) is served even
        when the whole takes longer than the timeout."""
        with self.server.connect() as s:
            s.sendall(b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n")
            for b in b"hello":
                s.sendall(bytes([b]))
                time.sleep(0.8)
            status, _, body = Reader(s).response()
            self.assertEqual(status, 200)
            self.assertTrue(body.startswith(b"5 "))


class ReadTimeoutShorthandTest(ServerTestCase):
    def setUp(self):
        self.server = start_direct(self, keepalive=10, read_timeout=2)

    def test_set_read_timeout_sets_both(self):
        with self.server.connect() as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost")
            status, elapsed = answer_or_close(s, 10)
            self.assertIn(status, (408, None))
            self.assertLess(elapsed, 4.5)


if __name__ == "__main__":
    unittest.main()

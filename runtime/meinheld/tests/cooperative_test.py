"""Cooperative switching: one worker answers a small request in under 100 ms while a
32 MB response is blocked on a client that does not read."""

import os
import time
import unittest

from support import Reader, ServerTestCase, start_direct, tx_queue, wait_until


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CooperativeTest(ServerTestCase):
    def setUp(self):
        self.server = start_direct(self, keepalive=10)

    def test_fast_request_while_big_response_blocked(self):
        stuck = self.server.connect(rcvbuf=4096, timeout=10)
        self.addCleanup(stuck.close)
        stuck.sendall(b"GET /big?32 HTTP/1.1\r\nHost: a\r\n\r\n")
        wait_until(lambda: tx_queue(self.server.port, stuck) > 0, 10,
                   message="the big response to block on its reader")
        worst = 0.0
        conn = self.server.connect(timeout=5)
        self.addCleanup(conn.close)
        reader = Reader(conn)
        for i in range(20):
            start = time.monotonic()
            conn.sendall(b"GET /seq?%d HTTP/1.1\r\nHost: a\r\n\r\n" % i)
            status, _, body = reader.response()
            worst = max(worst, time.monotonic() - start)
            self.assertEqual((status, body), (200, b"%d" % i))
        self.assertLess(worst, 0.1)
        # the blocked response is still complete once read
        stuck.settimeout(30)
        r = Reader(stuck)
        status, headers, body = r.response()
        self.assertEqual((status, len(body)), (200, 32 << 20))

    def assert_whole_to_slow_reader(self, path, count, size, during=False):
        """PATH's response of COUNT items of SIZE bytes (A, B, C, ...) is whole when
        read by a reader that let it block first; with DURING, another request is
        answered while it is blocked."""
        s = self.server.connect(rcvbuf=4096, timeout=20)
        self.addCleanup(s.close)
        s.sendall(b"GET %s HTTP/1.1\r\nHost: a\r\n\r\n" % path.encode())
        wait_until(lambda: tx_queue(self.server.port, s) > 0, 10, message="the response to block")
        if during:
            self.assertEqual(self.server.get("/seq?during")[2], b"during")
        status, _, body = Reader(s).response()
        self.assertEqual(status, 200)
        expected = b"".join(bytes([65 + i % 26]) * size for i in range(count))
        self.assertEqual(len(body), len(expected))
        self.assertTrue(body == expected, "response body corrupted")
        self.assertEqual(self.server.get("/seq?after")[2], b"after")

    def test_generator_response_to_slow_reader(self):
        """Each item of a generator response stays alive until written."""
        self.assert_whole_to_slow_reader("/stream?4", 4, 1 << 22, during=True)

    def test_computed_items_to_slow_reader(self):
        """A generator that computes each item while its reader takes the last: one
        thread at a time goes on with it, even when the loop passes to another
        thread meanwhile (_threads)."""
        self.assert_whole_to_slow_reader("/computed?12", 12, 1 << 20)

    def test_keepalive_after_blocked_response(self):
        """The connection that waited for its reader is read again afterwards, and
        the idle server does not spin."""
        s = self.server.connect(rcvbuf=4096, timeout=20)
        self.addCleanup(s.close)
        s.sendall(b"GET /big?32 HTTP/1.1\r\nHost: a\r\n\r\n")
        wait_until(lambda: tx_queue(self.server.port, s) > 0, 10, message="the response to block")
        reader = Reader(s)
        status, _, body = reader.response()
        self.assertEqual((status, len(body)), (200, 32 << 20))
        s.settimeout(5)
        s.sendall(b"GET /seq?again HTTP/1.1\r\nHost: a\r\n\r\n")
        self.assertEqual(reader.response()[2], b"again")
        before = cpu_seconds(self.server.pid)
        start = time.monotonic()
        wait_until(lambda: time.monotonic() - start >= 1.0, 2, message="a second")
        used = cpu_seconds(self.server.pid) - before
        self.assertLess(used, 0.3, "the idle server used %.2f s of CPU in a second" % used)

    def test_requests_resumed_by_a_timer(self):
        """Requests sleeping cooperatively (server.sleep) answer with their own
        start_response while others are served meanwhile."""
        naps = []
        for _ in range(3):
            s = self.server.connect(timeout=10)
            self.addCleanup(s.close)
            s.sendall(b"GET /nap HTTP/1.1\r\nHost: a\r\n\r\n")
            naps.append(s)
        start = time.monotonic()
        for i in range(5):
            self.assertEqual(self.server.get("/seq?%d" % i)[2], b"%d" % i)
        self.assertLess(time.monotonic() - start, 0.9, "served while the others sleep")
        for s in naps:
            status, _, body = Reader(s).response()
            self.assertEqual((status, body), (200, b"napped"))
            s.sendall(b"GET /seq?next HTTP/1.1\r\nHost: a\r\n\r\n")
            self.assertEqual(Reader(s).response()[2], b"next")

    def blocked_readers(self, count, path):
        """COUNT connections whose response to PATH is blocked on a reader that does not read."""
        stuck = []
        for _ in range(count):
            s = self.server.connect(rcvbuf=4096, timeout=10)
            self.addCleanup(s.close)
            s.sendall(b"GET " + path + b" HTTP/1.1\r\nHost: a\r\n\r\n")
            stuck.append(s)
        for s in stuck:
            wait_until(lambda: tx_queue(self.server.port, s) > 0, 10, message="a blocked response")
        return stuck

    def assert_new_requests_answered_at_once(self):
        for i in range(10):
            start = time.monotonic()
            status, _, body = self.server.get("/seq?%d" % i)
            self.assertLess(time.monotonic() - start, 0.1)
            self.assertEqual(body, b"%d" % i)

    def test_more_slow_readers_than_threads(self):
        """Six responses blocked on readers that do not read (more than the four
        threads of the _threads run): none holds a thread, new requests are served."""
        stuck = self.blocked_readers(6, b"/big?8")
        self.assert_new_requests_answered_at_once()
        for s in stuck:
            s.settimeout(30)
            status, _, body = Reader(s).response()
            self.assertEqual((status, len(body)), (200, 8 << 20))

    def test_two_blocked_responses_and_new_connections(self):
        self.blocked_readers(2, b"/big?32")
        self.assert_new_requests_answered_at_once()

if __name__ == "__main__":
    unittest.main()

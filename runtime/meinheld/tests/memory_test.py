"""No per-request leak: RSS stays flat over many requests (after a warm-up)."""

import unittest

from support import Reader, ServerTestCase, rss_kib, start_direct

BATCH = 200


class MemoryTest(ServerTestCase):
    def setUp(self):
        self.server = start_direct(self, keepalive=10)
        self.pid = int(self.server.get("/pid")[2])

    def run_requests(self, count, path=b"/seq?x", expect=b"x"):
        request = b"GET " + path + b" HTTP/1.1\r\nHost: m\r\n\r\n"
        with self.server.connect(timeout=20) as s:
            reader = Reader(s)
            for _ in range(count // BATCH):
                s.sendall(request * BATCH)
                for _ in range(BATCH):
                    status, _, body = reader.response()
                    self.assertEqual((status, body), (200, expect))

    def assert_flat(self, path, expect):
        self.run_requests(10000, path, expect)
        before = rss_kib(self.pid)
        self.run_requests(50000, path, expect)
        after = rss_kib(self.pid)
        self.assertLess(after - before, 8 * 1024, "RSS grew from %d to %d KiB over 50000 requests" % (before, after))

    def test_rss_flat(self):
        self.assert_flat(b"/seq?x", b"x")

    def test_rss_flat_with_app_server_and_date_headers(self):
        self.assert_flat(b"/dated", b"dated")


if __name__ == "__main__":
    unittest.main()

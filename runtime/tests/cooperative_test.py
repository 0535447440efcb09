"""One meinheld worker keeps answering while a slow client blocks a 32 MB write.

With THREADS=1 meinheld parks the blocked response in a greenlet and switches back
to its hub; with threads (the default) the response waits on its own thread while
another runs the loop. The sync worker is the control: it must miss the bound.
"""

import os
import socket
import tempfile
import time
import unittest

import support

BOUND = 0.1


class CooperativeTest(unittest.TestCase):
    def fast_request_while_big_write_blocks(self, extra_env):
        """Return the seconds a small request takes while /big is stalled."""
        env = support.base_env(APP_MODULE="wsgi_apps:app", WEB_CONCURRENCY="1",
                               ACCESS_LOG="", **extra_env)
        server = support.start(self, env)
        server.wait_workers(1)
        stalled = socket.socket()
        self.addCleanup(stalled.close)
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stalled.settimeout(5)
        stalled.connect(("127.0.0.1", server.port))
        stalled.sendall(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
        stalled.recv(1024)  # the response has started; now stop reading
        time.sleep(0.5)     # let the server fill the socket buffers and block
        started = time.monotonic()
        try:
            status = support.http_request(server.port, "GET", "/", timeout=2)[0]
        except OSError:
            status = None
        elapsed = time.monotonic() - started
        return status, elapsed

    def test_meinheld_worker_answers_within_bound(self):
        for threads in ({}, {"THREADS": "1"}):
            with self.subTest(**threads):
                status, elapsed = self.fast_request_while_big_write_blocks(threads)
                self.assertEqual(status, 200)
                self.assertLess(elapsed, BOUND)

    def test_sync_worker_misses_the_bound(self):
        with tempfile.NamedTemporaryFile("w", suffix=".py", dir="/dev/shm",
                                         delete=False) as conf:
            conf.write('worker_class = "sync"\n')
        self.addCleanup(os.unlink, conf.name)
        # THREADS=1: with more, gunicorn would run its gthread worker instead of sync
        status, elapsed = self.fast_request_while_big_write_blocks({"GUNICORN_CONF": conf.name, "THREADS": "1"})
        self.assertTrue(status is None or elapsed >= BOUND, (status, elapsed))


if __name__ == "__main__":
    unittest.main()

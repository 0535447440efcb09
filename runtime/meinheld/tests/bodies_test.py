"""Large request bodies stay in memory: 200 under the limit, 413 over it (before the
body is read), and no temporary file, even with /tmp read-only."""

import hashlib
import os
import subprocess
import sys
import threading
import unittest
from pathlib import Path

import testing

from support import Closed, Reader, ServerTestCase, open_files, server_read_all, start_direct, wait_until

MB = 1 << 20


def readonly_tmp_wrapper():
    """argv prefix running the server in a private mount namespace with /tmp and
    /var/tmp read-only (the kit's testing/readonly_exec.py, which needs root)."""
    tool = Path(testing.__file__).with_name("readonly_exec.py")
    return [sys.executable, str(tool), "--ro", "/tmp", "--ro", "/var/tmp", "--"]


def echo_of(data):
    return ("%d %s" % (len(data), hashlib.sha256(data).hexdigest())).encode()


class LargeBodyTest(ServerTestCase):
    LIMIT = 4 * MB

    def setUp(self):
        self.wrapper = readonly_tmp_wrapper()
        env = {"TMPDIR": "/nonexistent-meinheld-tmpdir"}
        self.server = start_direct(self, keepalive=5, max_content_length=self.LIMIT,
                                   wrapper=self.wrapper, env=env)
        self.pid = int(self.server.get("/pid")[2])

    def post(self, size, split=None):
        data = os.urandom(1024) * (size // 1024) + b"q" * (size % 1024)
        with self.server.connect(timeout=20) as s:
            s.sendall(b"POST /echo HTTP/1.1\r\nHost: b\r\nContent-Length: %d\r\n\r\n" % size)
            if split:
                s.sendall(data[:split])
                # once the server has read what was sent, nothing may be spooled to a file
                wait_until(lambda: server_read_all(self.server.port, s), 10,
                           message="the server to read the first part of the body")
                self.assertEqual(self.tmp_files(), [])
                s.sendall(data[split:])
            else:
                s.sendall(data)
            status, _, body = Reader(s).response()
        return status, body, data

    def tmp_files(self):
        return [t for t in open_files(self.pid) if "(deleted)" in t or t.startswith(("/tmp", "/var/tmp"))]

    def test_body_above_512000_bytes_in_memory(self):
        for size in (512001, 600000, 3 * MB, self.LIMIT):
            with self.subTest(size=size):
                status, body, data = self.post(size, split=size // 2)
                self.assertEqual(status, 200)
                self.assertEqual(body, echo_of(data))
        self.assertEqual(int(self.server.get("/pid")[2]), self.pid, "the worker was replaced")
        self.assertEqual(self.tmp_files(), [])

    def test_over_limit_413_before_body(self):
        with self.server.connect(timeout=10) as s:
            s.sendall(b"POST /echo HTTP/1.1\r\nHost: b\r\nContent-Length: %d\r\n\r\n" % (self.LIMIT + 1))
            # nothing of the body is sent: the answer must come anyway
            status, _, _ = Reader(s).response()
            self.assertEqual(status, 413)
        self.assertEqual(int(self.server.get("/pid")[2]), self.pid)

    def test_over_limit_while_client_sends(self):
        data = b"z" * (self.LIMIT + MB)
        with self.server.connect(timeout=10) as s:
            errors = []

            def send():
                try:
                    s.sendall(b"POST /echo HTTP/1.1\r\nHost: b\r\nContent-Length: %d\r\n\r\n" % len(data))
                    s.sendall(data)
                except OSError as e:
                    errors.append(e)

            sender = threading.Thread(target=send, daemon=True)
            sender.start()
            try:
                status = Reader(s).response()[0]
            except (Closed, ConnectionResetError):
                status = None
            sender.join(10)
            self.assertIn(status, (413, None))
        self.assertEqual(int(self.server.get("/pid")[2]), self.pid)

    def test_chunked_large_body(self):
        data = os.urandom(MB) * 3
        with self.server.connect(timeout=20) as s:
            s.sendall(b"POST /echo HTTP/1.1\r\nHost: b\r\nTransfer-Encoding: chunked\r\n\r\n")
            for i in range(0, len(data), 300000):
                piece = data[i:i + 300000]
                s.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
            s.sendall(b"0\r\n\r\n")
            status, _, body = Reader(s).response()
        self.assertEqual(status, 200)
        self.assertEqual(body, echo_of(data))
        self.assertEqual(self.tmp_files(), [])

    def test_readonly_tmp_in_effect(self):
        probe = subprocess.run(self.wrapper + ["sh", "-c", "touch /tmp/.meinheld_probe_$$"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        self.assertNotEqual(probe.returncode, 0, "/tmp is writable under the wrapper")
        status, body, data = self.post(2 * MB)
        self.assertEqual(status, 200)
        self.assertEqual(body, echo_of(data))


class DefaultLimitTest(ServerTestCase):
    """Without a configured limit (meinheld's default 16 MiB) a 5 MiB body is accepted
    in memory; a body over the default gets 413."""

    def setUp(self):
        self.server = start_direct(self, keepalive=5)
        self.pid = int(self.server.get("/pid")[2])

    def test_without_limit(self):
        data = os.urandom(MB) * 5
        with self.server.connect(timeout=20) as s:
            s.sendall(b"POST /echo HTTP/1.1\r\nHost: b\r\nContent-Length: %d\r\n\r\n" % len(data))
            s.sendall(data[:MB])
            wait_until(lambda: server_read_all(self.server.port, s), 10,
                       message="the server to read the first part of the body")
            self.assertEqual([t for t in open_files(self.pid) if "(deleted)" in t], [])
            s.sendall(data[MB:])
            status, _, body = Reader(s).response()
        self.assertEqual((status, body), (200, echo_of(data)))
        with self.server.connect(timeout=10) as s:
            s.sendall(b"POST /echo HTTP/1.1\r\nHost: b\r\nContent-Length: %d\r\n\r\n" % (17 * MB))
            self.assertEqual(Reader(s).response()[0], 413)


if __name__ == "__main__":
    unittest.main()

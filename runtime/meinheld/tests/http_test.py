"""Keep-alive, pipelining, chunked request bodies and bad requests."""

import hashlib
import http.client
import socket
import threading
import time
import unittest

from support import Reader, ServerTestCase, closed_or_error, start_direct


class KeepAliveTest(ServerTestCase):
    def setUp(self):
        self.server = start_direct(self, keepalive=3)

    def test_many_requests_on_one_connection(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=5)
        self.addCleanup(conn.close)
        sockets = set()
        for i in range(200):
            conn.request("GET", "/seq?%d" % i)
            response = conn.getresponse()
            self.assertEqual(response.status, 200)
            self.assertEqual(response.read(), str(i).encode())
            self.assertEqual(response.getheader("Connection", "").lower(), "keep-alive")
            sockets.add(id(conn.sock))
        self.assertEqual(len(sockets), 1, "the connection was reopened")

    def test_post_bodies_on_one_connection(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=5)
        self.addCleanup(conn.close)
        for size in (0, 1, 1000, 70000, 3):
            data = bytes(range(256)) * (size // 256) + b"z" * (size % 256)
            conn.request("POST", "/echo", body=data)
            response = conn.getresponse()
            self.assertEqual(response.status, 200)
            self.assertEqual(response.read(), ("%d %s" % (size, hashlib.sha256(data).hexdigest())).encode())

    def test_http10_closes(self):
        with self.server.connect() as s:
            s.sendall(b"GET / HTTP/1.0\r\n\r\n")
            status, headers, body = Reader(s).response()
            self.assertEqual(status, 200)
            self.assertEqual(body, b"Hello, world!\n")
            closed, _ = closed_or_error(s, 5)
            self.assertTrue(closed, "HTTP/1.0 connection left open")

    def test_connection_close_honoured(self):
        with self.server.connect() as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
            status, headers, _ = Reader(s).response()
            self.assertEqual(status, 200)
            self.assertEqual(headers.get("connection", "").lower(), "close")
            closed, _ = closed_or_error(s, 5)
            self.assertTrue(closed)

    def test_idle_connection_closed_after_keepalive(self):
        with self.server.connect() as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
            self.assertEqual(Reader(s).response()[0], 200)
            start = time.monotonic()
            closed, data = closed_or_error(s, 8)
            elapsed = time.monotonic() - start
            self.assertTrue(closed, "idle keep-alive connection not closed")
            self.assertEqual(data, b"", "idle connection got bytes before closing")
            self.assertGreater(elapsed, 1.5)
            self.assertLess(elapsed, 5.5)


class ResponseHeadersTest(ServerTestCase):
    def setUp(self):
        self.server = start_direct(self, keepalive=10)

    def test_latin1_status_and_header(self):
        with self.server.connect() as s:
            s.sendall(b"GET /latin1 HTTP/1.1\r\nHost: r\r\n\r\n")
            data = b""
            while b"\r\n\r\nok" not in data:
                chunk = s.recv(4096)
                self.assertTrue(chunk, data)
                data += chunk
        self.assertTrue(data.startswith(b"HTTP/1.1 200 \xc7a va\r\n"), data)
        self.assertIn(b"\r\nX-Latin: caf\xe9\r\n", data)

    def test_header_injection_refused(self):
        status, headers, body = self.server.get("/inject")
        self.assertEqual(status, 500)
        self.assertNotIn("set-cookie", headers)


class ExpectTest(ServerTestCase):
    def setUp(self):
        self.server = start_direct(self, keepalive=10)

    def test_100_continue_before_the_body(self):
        with self.server.connect() as s:
            s.sendall(b"POST /echo HTTP/1.1\r\nHost: e\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
            # the client waits for the interim answer before it sends the body
            data = b""
            s.settimeout(3)
            while b"\r\n\r\n" not in data:
                chunk = s.recv(100)
                self.assertTrue(chunk)
                data += chunk
            self.assertTrue(data.startswith(b"HTTP/1.1 100 Continue\r\n\r\n"), data)
            s.sendall(b"hello")
            reader = Reader(s)
            reader.buf = data[len(b"HTTP/1.1 100 Continue\r\n\r\n"):]
            status, _, body = reader.response()
            self.assertEqual((status, body), (200, ("5 %s" % hashlib.sha256(b"hello").hexdigest()).encode()))

    def test_unknown_expectation(self):
        with self.server.connect() as s:
            s.sendall(b"POST /echo HTTP/1.1\r\nHost: e\r\nContent-Length: 5\r\nExpect: teapot\r\n\r\n")
            self.assertEqual(Reader(s).response()[0], 417)


class RemoteAddressTest(ServerTestCase):
    def setUp(self):
        self.server = start_direct(self, keepalive=10)

    def test_remote_address_per_connection(self):
        """Each connection keeps its own REMOTE_ADDR (127.0.0.2 is loopback too)."""
        first = socket.socket()
        self.addCleanup(first.close)
        first.bind(("127.0.0.2", 0))
        first.settimeout(5)
        first.connect(("127.0.0.1", self.server.port))
        first_reader = Reader(first)
        first.sendall(b"GET /remote HTTP/1.1\r\nHost: r\r\n\r\n")
        self.assertEqual(first_reader.response()[2], b"127.0.0.2 %d" % first.getsockname()[1])
        with self.server.connect() as second:
            second.sendall(b"GET /remote HTTP/1.1\r\nHost: r\r\n\r\n")
            self.assertEqual(Reader(second).response()[2], b"127.0.0.1 %d" % second.getsockname()[1])
            # the first connection, accepted before the second, still says 127.0.0.2
            first.sendall(b"GET /remote HTTP/1.1\r\nHost: r\r\n\r\n")
            self.assertEqual(first_reader.response()[2], b"127.0.0.2 %d" % first.getsockname()[1])


class PipeliningTest(ServerTestCase):
    def setUp(self):
        self.server = start_direct(self, keepalive=10)

    def pipeline(self, count, chunk=None):
        requests = [b"GET /seq?%d HTTP/1.1\r\nHost: p\r\n\r\n" % i for i in range(count)]
        payload = b"".join(requests)
        s = self.server.connect(timeout=30)
        self.addCleanup(s.close)
        errors = []

        def send():
            try:
                if chunk:
                    for i in range(0, len(payload), chunk):
                        s.sendall(payload[i:i + chunk])
                else:
                    s.sendall(payload)
            except OSError as e:
                errors.append(e)

        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        reader = Reader(s)
        for i in range(count):
            status, headers, body = reader.response()
            self.assertEqual((status, body), (200, str(i).encode()), "response %d" % i)
        sender.join(30)
        self.assertEqual(errors, [])
        return s, reader

    def test_10000_pipelined_requests_in_order(self):
        s, reader = self.pipeline(10000)
        # the connection stays usable, and the server healthy
        s.sendall(b"GET /seq?last HTTP/1.1\r\nHost: p\r\n\r\n")
        self.assertEqual(reader.response()[2], b"last")
        self.assertEqual(self.server.get("/")[0], 200)

    def test_pipelined_requests_split_at_odd_places(self):
        self.pipeline(3000, chunk=997)

    def test_pipelined_posts(self):
        payload = b"".join(b"POST /echo HTTP/1.1\r\nHost: p\r\nContent-Length: %d\r\n\r\n%s" % (len(b"%d" % i), b"%d" % i)
                           for i in range(500))
        with self.server.connect(timeout=20) as s:
            s.sendall(payload)
            reader = Reader(s)
            for i in range(500):
                data = b"%d" % i
                status, _, body = reader.response()
                self.assertEqual(status, 200)
                self.assertEqual(body, ("%d %s" % (len(data), hashlib.sha256(data).hexdigest())).encode())


class ChunkedBodyTest(ServerTestCase):
    def setUp(self):
        self.server = start_direct(self, keepalive=5, max_content_length=1 << 20)

    def send_chunked(self, s, chunks, trailer=b""):
        out = b"POST /echo HTTP/1.1\r\nHost: c\r\nTransfer-Encoding: chunked\r\n\r\n"
        for c in chunks:
            out += b"%x\r\n%s\r\n" % (len(c), c)
        out += b"0\r\n" + trailer + b"\r\n"
        s.sendall(out)

    def test_chunked_body(self):
        chunks = [b"a" * 10, b"b" * 5000, b"", b"c"]
        chunks = [c for c in chunks if c]
        data = b"".join(chunks)
        with self.server.connect() as s:
            self.send_chunked(s, chunks)
            status, _, body = Reader(s).response()
            self.assertEqual(status, 200)
            self.assertEqual(body, ("%d %s" % (len(data), hashlib.sha256(data).hexdigest())).encode())

    def test_chunked_body_trickled_then_next_request(self):
        chunks = [bytes([65 + i]) * (i * 100 + 1) for i in range(20)]
        data = b"".join(chunks)
        with self.server.connect() as s:
            s.sendall(b"POST /echo HTTP/1.1\r\nHost: c\r\nTransfer-Encoding: chunked\r\n\r\n")
            for c in chunks:
                s.sendall(b"%x\r\n" % len(c))
                s.sendall(c + b"\r\n")
            s.sendall(b"0\r\n\r\nGET /seq?after HTTP/1.1\r\nHost: c\r\n\r\n")
            reader = Reader(s)
            status, _, body = reader.response()
            self.assertEqual(status, 200)
            self.assertEqual(body, ("%d %s" % (len(data), hashlib.sha256(data).hexdigest())).encode())
            self.assertEqual(reader.response()[2], b"after")

    def test_chunked_body_with_trailer(self):
        with self.server.connect() as s:
            self.send_chunked(s, [b"hello"], trailer=b"X-Trailer: 1\r\n")
            status, _, body = Reader(s).response()
            self.assertEqual(status, 200)
            self.assertTrue(body.startswith(b"5 "))

    def test_chunked_body_over_limit(self):
        with self.server.connect() as s:
            # the server answers (and closes) while the client is still sending
            sender = threading.Thread(target=self.send_quietly, args=(s, [b"x" * 400000] * 3), daemon=True)
            sender.start()
            status, _, _ = Reader(s).response()
            self.assertEqual(status, 413)
            sender.join(10)
        self.assertEqual(self.server.get("/")[0], 200)

    def send_quietly(self, s, chunks):
        try:
            self.send_chunked(s, chunks)
        except OSError:
            pass


class BadRequestTest(ServerTestCase):
    """Each bad request gets its error status and a closed connection; the same process
    serves on. (The parser's every rule is in corpus_test.)"""

    BAD = [
        (b"GARBAGE\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a\r\nBad Header\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a\r\n\xff\xfe: x\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a\r\nX-Long: " + b"a" * 20000 + b"\r\n\r\n", 431),
        (b"GET /" + b"a" * 20000 + b" HTTP/1.1\r\nHost: a\r\n\r\n", 414),
        (b"GET / HTTP/1.1\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(300)) + b"\r\n", 431),
        (b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n", 400),
        (b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n", 400),
        (b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", 400),
        (b"GET / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n\r\n", 417),
        (b"\x00\x01\x02\x03\r\n\r\n", 400),
        (b"GET / HTTP/9.9\r\n\r\n", 505),
    ]

    def setUp(self):
        self.server = start_direct(self, keepalive=2)
        self.pid = int(self.server.get("/pid")[2])

    def test_bad_requests(self):
        for raw, expected in self.BAD:
            with self.subTest(request=raw[:40]):
                with self.server.connect() as s:
                    s.sendall(raw)
                    s.settimeout(10)
                    status, headers, _ = Reader(s).response()
                    self.assertEqual((status, headers.get("connection")), (expected, "close"), raw[:60])
                    closed, _ = closed_or_error(s, 3)
                    self.assertTrue(closed, raw[:60])
                self.assertEqual(int(self.server.get("/pid")[2]), self.pid)
        self.assertTrue(self.server.alive())

    def test_control_characters_in_header_values(self):
        for value in (b"a\x00b", b"a\x01b", b"a\x7fb", b"\x1b[31m"):
            with self.subTest(value=value):
                with self.server.connect() as s:
                    s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\nX-Value: " + value + b"\r\n\r\n")
                    self.assertEqual(Reader(s).response()[0], 400)
        with self.server.connect() as s:
            # HTAB and obs-text are allowed
            s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\nX-Value: a\tb\xe9\r\n\r\n")
            self.assertEqual(Reader(s).response()[0], 200)

    def test_early_disconnects(self):
        for raw in (b"GET / HT", b"POST /echo HTTP/1.1\r\nContent-Length: 100\r\n\r\nabc", b"G"):
            s = self.server.connect()
            s.sendall(raw)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            s.close()
        for _ in range(20):
            s = self.server.connect()
            s.sendall(b"GET /big?1 HTTP/1.1\r\nHost: a\r\n\r\n")
            s.recv(10)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            s.close()
        self.assertEqual(int(self.server.get("/pid")[2]), self.pid)


if __name__ == "__main__":
    unittest.main()

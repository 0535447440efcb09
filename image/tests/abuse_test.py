"""Malformed and abusive requests against the real image (serving the kit's hello app): a
4xx or a closed connection, in bounded time, no worker lost, and a normal GET works after
each."""

import re
import socket
import time
import unittest
from typing import List, NamedTuple, Optional, Sequence

import containers
from testing import podman

STORE: podman.Store
CONTAINER: containers.Container
KEEP_ALIVE = 5  # also the time a request's headers have from their first byte
BOUND = 10.0  # seconds any case may take
MAX_BODY = 10485760  # the launcher's default
PIPELINED = 10000
STATUS = re.compile(rb"HTTP/1\.[01] (\d{3}) ")
GET = b"GET / HTTP/1.1\r\nHost: t\r\n\r\n"


class Outcome(NamedTuple):
    statuses: List[int]
    closed: bool
    seconds: float
    data: bytes


def setUpModule() -> None:
    global STORE, CONTAINER
    STORE = containers.loaded_store()
    CONTAINER = containers.Container(STORE, "abuse", {"WEB_CONCURRENCY": "2", "KEEP_ALIVE": str(KEEP_ALIVE)},
                                  hello=True)
    try:
        CONTAINER.run()
        CONTAINER.wait_ready()
        CONTAINER.wait_workers(2)
    except BaseException:
        STORE.close()
        raise


def tearDownModule() -> None:
    STORE.close()


def exchange(parts: Sequence[bytes], pause: float = 0.0, close_early: bool = False) -> Outcome:
    """Sends PARTS (PAUSE seconds apart), then reads until the server closes, or until a
    response arrived and the line stayed quiet for 0.5 s, or BOUND seconds passed."""
    started = time.monotonic()
    data, closed = b"", False
    with socket.create_connection(("127.0.0.1", CONTAINER.port), timeout=BOUND) as sock:
        try:
            for index, part in enumerate(parts):
                if index and pause:
                    time.sleep(pause)
                sock.sendall(part)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may have answered before it closed: read on
        if close_early:
            return Outcome([], True, time.monotonic() - started, b"")
        while not closed and time.monotonic() - started < BOUND:
            sock.settimeout(0.5 if STATUS.search(data) else max(0.1, BOUND - (time.monotonic() - started)))
            try:
                chunk = sock.recv(1 << 20)
            except socket.timeout:
                if STATUS.search(data):
                    break
                continue
            except ConnectionResetError:
                chunk = b""
            closed = not chunk
            data += chunk
    return Outcome([int(m) for m in STATUS.findall(data)], closed, time.monotonic() - started, data)


def chunked(size: int) -> bytes:
    """A chunked body of SIZE bytes in 64 KiB chunks."""
    step, out = 65536, []
    for offset in range(0, size, step):
        length = min(step, size - offset)
        out.append(b"%x\r\n%s\r\n" % (length, b"c" * length))
    return b"".join(out) + b"0\r\n\r\n"


class AbuseTest(unittest.TestCase):
    def setUp(self) -> None:
        self.workers = CONTAINER.workers()

    def tearDown(self) -> None:
        self.assertEqual(podman.request(CONTAINER.port, GET)[0], 200)
        self.assertEqual(CONTAINER.workers(), self.workers, CONTAINER.logs()[-3000:])

    def refused(self, outcome: Outcome, expected: Optional[int] = None) -> None:
        """A 4xx answer (EXPECTED if given) or a closed connection, within BOUND."""
        self.assertLess(outcome.seconds, BOUND, outcome)
        if expected is not None and outcome.statuses:
            self.assertEqual(outcome.statuses, [expected], outcome)
        self.assertTrue(all(400 <= status < 500 for status in outcome.statuses), outcome)
        self.assertTrue(outcome.statuses or outcome.closed, outcome)

    def test_garbage_request_line(self) -> None:
        self.refused(exchange([b"HELLO\r\n\r\n"]))

    def test_request_line_without_version(self) -> None:
        self.refused(exchange([b"GET /\r\n\r\n"]), 400)

    def test_unknown_http_version(self) -> None:
        outcome = exchange([b"GET / HTTP/9.9\r\nHost: t\r\n\r\n"])
        self.assertEqual((outcome.statuses, outcome.closed), ([505], True), outcome)

    def test_control_character_in_method(self) -> None:
        self.refused(exchange([b"G\x01T / HTTP/1.1\r\nHost: t\r\n\r\n"]))

    def test_nul_in_target(self) -> None:
        self.refused(exchange([b"GET /a\x00b HTTP/1.1\r\nHost: t\r\n\r\n"]))

    def test_nul_in_header(self) -> None:
        self.refused(exchange([b"GET / HTTP/1.1\r\nHost: t\r\nX-A: a\x00b\r\n\r\n" + GET]), 400)

    def test_escape_character_in_header(self) -> None:
        self.refused(exchange([b"GET / HTTP/1.1\r\nHost: t\r\nUser-Agent: \x1b[31mred\r\n\r\n"]), 400)

    def test_header_without_colon(self) -> None:
        self.refused(exchange([b"GET / HTTP/1.1\r\nHost: t\r\nno colon here\r\n\r\n"]))

    def test_space_in_header_name(self) -> None:
        self.refused(exchange([b"GET / HTTP/1.1\r\nHost: t\r\nBad Name: x\r\n\r\n"]))

    def test_oversized_header(self) -> None:
        self.refused(exchange([b"GET / HTTP/1.1\r\nHost: t\r\nX-Big: " + b"h" * 200000 + b"\r\n\r\n"]))

    def test_many_headers(self) -> None:
        headers = b"".join(b"X-%d: v\r\n" % index for index in range(5000))
        self.refused(exchange([b"GET / HTTP/1.1\r\nHost: t\r\n" + headers + b"\r\n"]))

    def test_oversized_url(self) -> None:
        self.refused(exchange([b"GET /" + b"u" * 200000 + b" HTTP/1.1\r\nHost: t\r\n\r\n"]))

    def test_invalid_chunk_size(self) -> None:
        self.refused(exchange([b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n"]))

    def test_overflowing_chunk_size(self) -> None:
        self.refused(exchange([b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                               b"ffffffffffffffffffffff\r\nabc\r\n0\r\n\r\n"]))

    def test_content_length_and_transfer_encoding(self) -> None:
        """Request smuggling: the body hides a second request."""
        smuggled = b"0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: t\r\n\r\n"
        self.refused(exchange([b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n"
                               b"Transfer-Encoding: chunked\r\n\r\n" % len(smuggled) + smuggled]))

    def test_two_content_lengths(self) -> None:
        self.refused(exchange([b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\nContent-Length: 40\r\n\r\n"
                               b"GET /smuggled HTTP/1.1\r\nHost: t\r\n\r\n"]))

    def test_negative_content_length(self) -> None:
        self.refused(exchange([b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: -5\r\n\r\nabc"]))

    def test_non_numeric_content_length(self) -> None:
        self.refused(exchange([b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1x\r\n\r\nabc"]))

    def test_unknown_transfer_encoding(self) -> None:
        """A coding the server does not decode: 501 (RFC 9112 6.1), and the connection ends."""
        outcome = exchange([b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
                            b"3\r\nabc\r\n0\r\n\r\n"])
        self.assertEqual((outcome.statuses, outcome.closed), ([501], True), outcome)

    def test_slowloris_never_finishes_headers(self) -> None:
        """A client trickling header lines gets 408 once KEEP_ALIVE seconds have passed
        since its request's first byte: its trickle does not extend that. Others are
        served meanwhile."""
        with socket.create_connection(("127.0.0.1", CONTAINER.port), timeout=KEEP_ALIVE + 10) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n")
            started = time.monotonic()
            sock.settimeout(0.25)
            answer, index = b"", 0
            while not answer and time.monotonic() - started < KEEP_ALIVE + 10:
                try:
                    sock.sendall(b"X-Slow-%d: v\r\n" % index)
                    answer = sock.recv(4096)
                except socket.timeout:
                    index += 1
                    if index % 8 == 0:
                        self.assertEqual(podman.request(CONTAINER.port, GET)[0], 200)
                except (BrokenPipeError, ConnectionResetError):
                    break
            elapsed = time.monotonic() - started
        self.assertTrue(answer.startswith(b"HTTP/1.") and b" 408 " in answer[:16], answer)
        self.assertGreaterEqual(elapsed, KEEP_ALIVE - 1)  # meinheld's timers tick once a second
        self.assertLess(elapsed, KEEP_ALIVE + 3)

    def test_idle_connection(self) -> None:
        self.refused(exchange([b""]))

    def test_pipelining_flood(self) -> None:
        """10,000 requests in one write, all answered in order (upstream meinheld 1.0.2
        handled them recursively and failed from about 980)."""
        data, answered, started = b"", 0, time.monotonic()
        with socket.create_connection(("127.0.0.1", CONTAINER.port), timeout=BOUND) as sock:
            sock.sendall(GET * PIPELINED)
            while answered < PIPELINED and time.monotonic() - started < BOUND:
                chunk = sock.recv(1 << 20)
                if not chunk:
                    break
                data += chunk
                answered = data.count(b"HTTP/1.1 ")
        self.assertEqual([int(status) for status in STATUS.findall(data)], [200] * PIPELINED)

    def test_disconnect_mid_headers(self) -> None:
        self.refused(exchange([b"GET / HTTP/1.1\r\nHost: t\r\nX-A"], close_early=True))

    def test_disconnect_mid_body(self) -> None:
        self.refused(exchange([b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5000000\r\n\r\n" + b"d" * 300000],
                              close_early=True))

    def test_600_kb_post(self) -> None:
        body = b"p" * 614400
        self.refused(exchange([b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % len(body) + body]), 405)

    def test_max_body_plus_one_post(self) -> None:
        body = b"m" * (MAX_BODY + 1)
        self.refused(exchange([b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % len(body), body]), 413)

    def test_chunked_max_body_plus_one_post(self) -> None:
        self.refused(exchange([b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n",
                               chunked(MAX_BODY + 1)]), 413)


if __name__ == "__main__":
    unittest.main()

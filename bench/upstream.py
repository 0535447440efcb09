"""An upstream HTTP service with a fixed delay: `GET /?ms=N` is answered `ok` N ms after it arrived.

Standard library only (asyncio protocol, one process), HTTP/1.1 keep-alive, requests on one
connection answered in order; made to take thousands of requests/s on loopback. Runs until
SIGTERM or SIGINT: upstream.py --port PORT [--host 127.0.0.1].
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import time
from typing import List, Optional
from urllib.parse import parse_qs, urlsplit

MAX_HEADER = 16384
MAX_DELAY_MS = 10000
OK = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"
BAD = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


def delay_of(head: bytes) -> Optional[float]:
    """Seconds to wait for the request whose head is HEAD, or None if it is not `GET /?ms=N`."""
    try:
        method, target, _ = head.split(b"\r\n", 1)[0].decode("ascii").split(" ")
        delay = int(parse_qs(urlsplit(target).query).get("ms", ["0"])[0])
    except ValueError:
        return None
    if method not in ("GET", "HEAD") or not 0 <= delay <= MAX_DELAY_MS:
        return None
    return delay / 1000


class Delayed(asyncio.Protocol):
    """One client connection: each complete request head gets OK after its delay, in order."""

    def __init__(self) -> None:
        self.transport: Optional[asyncio.Transport] = None
        self.buffer = b""
        self.last_due = 0.0  # answers leave in order: never before the one before

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Keeps the transport."""
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        """Schedules an answer for every complete request head received."""
        self.buffer += data
        loop = asyncio.get_running_loop()
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buffer) > MAX_HEADER:
                    self.reject()
                return
            head, self.buffer = self.buffer[:end], self.buffer[end + 4 :]
            delay = delay_of(head)
            if delay is None:
                self.reject()
                return
            self.last_due = max(loop.time() + delay, self.last_due)
            loop.call_at(self.last_due, self.answer)

    def answer(self) -> None:
        """Writes one OK, unless the client has gone."""
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(OK)

    def reject(self) -> None:
        """400 and close."""
        if self.transport is not None:
            self.transport.write(BAD)
            self.transport.close()
        self.buffer = b""

    def connection_lost(self, exc: Optional[Exception]) -> None:
        """Forgets the transport: pending answers are dropped."""
        self.transport = None


async def serve(host: str, port: int) -> None:
    """Serves until SIGTERM or SIGINT."""
    loop = asyncio.get_running_loop()
    stop: asyncio.Future = loop.create_future()

    def on_signal() -> None:
        if not stop.done():
            stop.set_result(None)

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, on_signal)
    server = await loop.create_server(Delayed, host, port, backlog=1024, reuse_address=True)
    print("upstream: serving on %s:%d since %.3f" % (host, port, time.time()), file=sys.stderr, flush=True)
    async with server:
        await stop


def main(argv: Optional[List[str]] = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    asyncio.run(serve(args.host, args.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())

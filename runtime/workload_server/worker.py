"""A gunicorn worker that runs the kit's meinheld (runtime/meinheld) event loop.

Some faults of upstream meinheld are fixed in meinheld itself, by the kit's patches, so
nothing here works around them: its worker class's patch of gunicorn's Logger (by which a
SIGKILLed worker took the server down), bodies over 512,000 bytes in tmpfile() (a SIGSEGV
on a read-only /tmp), control characters in header values reaching the app, and a
SIGTERM that ended the loop about a second later whatever GRACEFUL_TIMEOUT said. What
this class adds to meinheld's own:

* the access log quotes the (percent-decoded) path again and escapes quotes and
  control characters in Referer and User-Agent, so a request cannot split or forge a
  line;
* bodies larger than MAX_BODY get 413 before they are read;
* a request's headers must arrive within KEEP_ALIVE seconds of its first byte
  (TIMEOUT if keep-alive is off), and a body may not stall longer than TIMEOUT between
  two reads (each 1 to 120 s: meinheld's range);
* with THREADS > 1, that many threads serve requests: a request that waits (on a
  socket, a database, a sleep) holds its thread while the loop goes on serving on
  another (workload_server.waits);
* with MAX_REQUESTS, the worker retires (gracefully) after that many requests;
* the heartbeat is gunicorn's notify(), and a worker whose master went away stops.
"""

import itertools
import os
import re
import sys
import types
from typing import Callable, Iterable, Optional, Type
from urllib.parse import quote

from gunicorn.glogging import Logger
from gunicorn.workers.base import Worker
from meinheld import server

from workload_server import waits


# Characters a request target may carry unencoded (RFC 3986); the query keeps its escapes.
_SAFE_IN_PATH = "/:@!$&'()*+,;=-._~"
_SAFE_IN_QUERY = _SAFE_IN_PATH + "?%"
_UNSAFE_IN_LOG = re.compile(r'[^ -~]|["\\]')
# The range of meinheld's header and body timeouts, in seconds.
_READ_TIMEOUTS = (1, 120)


def _escape(text: str) -> str:
    """TEXT with quotes, backslashes and non-printable characters as \\xNN (for a log line)."""
    return _UNSAFE_IN_LOG.sub(lambda match: "\\x%02x" % ord(match[0]), text)


def _read_timeout(seconds: float) -> int:
    """SECONDS within meinheld's range for a read timeout (0, "never", is its longest)."""
    low, high = _READ_TIMEOUTS
    return max(low, min(high, int(seconds) or high))


class _ErrorLog:
    """meinheld calls ``error(type, value, traceback)`` for app exceptions and
    ``info(message)`` for each request it refuses."""

    def __init__(self, log: Logger) -> None:
        self._log = log

    def error(
        self,
        exc_type: Type[BaseException],
        value: Optional[BaseException],
        tb: Optional[types.TracebackType],
    ) -> None:
        """Log an exception raised while serving a request."""
        self._log.error("Error handling request", exc_info=(exc_type, value, tb))

    def info(self, message: str) -> None:
        """Log a request the server refused: one line with the status, the parser's
        reason and the method (meinheld never puts request bytes in it)."""
        self._log.info(message)


class _AccessLog:
    """meinheld calls ``access(environ)`` after each response."""

    def __init__(self, log: Logger) -> None:
        self._log = log

    def access(self, environ: dict) -> None:
        """Log one request in the combined log format."""
        # PATH_INFO is percent-decoded: quote it again so that an encoded newline or
        # quote in a request cannot forge or split a log line.
        query = environ.get("QUERY_STRING")
        target = quote(environ.get("PATH_INFO", "-"), safe=_SAFE_IN_PATH, encoding="latin-1")
        if query:
            target += "?" + quote(query, safe=_SAFE_IN_QUERY, encoding="latin-1")
        self._log.access_log.info(
            '%s - - [%s] "%s %s %s" %s %s "%s" "%s"',
            environ.get("REMOTE_ADDR", "-"),
            environ.get("LOCAL_TIME", "-"),
            environ.get("REQUEST_METHOD", "-"),
            target,
            environ.get("SERVER_PROTOCOL", "-"),
            environ.get("STATUS_CODE", "-"),
            environ.get("SEND_BYTES", "-"),
            _escape(environ.get("HTTP_REFERER", "-")),
            _escape(environ.get("HTTP_USER_AGENT", "-")),
        )


class MeinheldWorker(Worker):
    """Serve the WSGI app with meinheld; the gunicorn app must have ``max_body``."""

    def run(self) -> None:
        """Configure meinheld in this worker process and run its loop."""
        server.set_error_logger(_ErrorLog(self.log))
        server.set_access_logger(_AccessLog(self.log) if self.cfg.accesslog else None)
        server.set_keepalive(self.cfg.keepalive)
        server.set_header_timeout(_read_timeout(self.cfg.keepalive or self.cfg.timeout))
        server.set_body_timeout(_read_timeout(self.cfg.timeout))
        server.set_picoev_max_fd(self.cfg.worker_connections)
        server.set_max_content_length(self.app.max_body)
        server.set_threads(self.cfg.threads)
        if self.cfg.threads > 1:
            waits.install(server.will_block)
        server.set_watchdog(self._heartbeat)
        server.set_listen_socket([s.fileno() for s in self.sockets])
        self.notify()  # alive before the loop's first watchdog tick
        server.run(self._counted(self.wsgi) if self.cfg.max_requests else self.wsgi)

    def _counted(self, app: Callable) -> Callable:
        """Wrap app so the worker retires after max_requests (gunicorn's own Worker
        sets max_requests, with its jitter, but only its own loops count). meinheld's
        graceful stop closes idle keep-alive connections and answers the requests in
        flight with Connection: close. The count is an itertools.count: its next() is
        one step under the GIL, so threads serving requests at once count each."""
        served = itertools.count(1)

        def counting(environ: dict, start_response: Callable) -> Iterable[bytes]:
            self.nr = next(served)
            if self.nr == self.max_requests:
                self.log.info("Autorestarting worker after current request.")
                server.stop(int(self.cfg.graceful_timeout))
            return app(environ, start_response)

        return counting

    def _heartbeat(self) -> None:
        """Called by meinheld's loop about once a second."""
        self.notify()
        if self.ppid != os.getppid():
            self.log.info("Parent changed, shutting down: %s", self)
            server.stop(int(self.timeout))

    def handle_quit(self, sig: int, frame: Optional[types.FrameType]) -> None:
        """SIGQUIT/SIGINT: stop at once."""
        server.stop()
        sys.exit(0)

    def handle_exit(self, sig: int, frame: Optional[types.FrameType]) -> None:
        """SIGTERM: stop accepting, close idle connections, let the requests on open
        connections finish (even ones still arriving) within GRACEFUL_TIMEOUT."""
        server.stop(int(self.cfg.graceful_timeout))
        self.log.info("Stopping gracefully: requests in flight have up to %d s", self.cfg.graceful_timeout)

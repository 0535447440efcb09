"""A gunicorn worker that runs meinheld's event loop, fixed for production use.

meinheld's own ``meinheld.gmeinheld.MeinheldWorker`` has three defects this
class does not share:

* Its ``__init__`` (run in gunicorn's master, before the fork) replaces
  ``gunicorn.glogging.Logger.error`` and ``.access`` for the whole process
  with functions of other signatures. When a worker then dies by SIGKILL the
  master's ``log.error(msg, pid, signame)`` raises TypeError and the server
  exits. Here meinheld gets small adapter objects instead; gunicorn's Logger
  class is left alone.
* It lets meinheld spool request bodies above 512,000 bytes to ``tmpfile()``
  in /tmp without checking the result, so on a read-only /tmp the worker
  segfaults. Here bodies up to ``max_body`` bytes stay in memory and larger
  ones are refused with 413 before they are read.
* Its heartbeat (``set_fastwatchdog``) toggles the heartbeat file's mode,
  while gunicorn >= 22 judges liveness by the file's mtime, so a hung worker
  was never detected. Here the heartbeat is gunicorn's own ``notify()``.
"""

import os
import re
import sys
import types
from typing import Callable, Iterable, Optional, Type
from urllib.parse import quote

from gunicorn.glogging import Logger
from gunicorn.workers.base import Worker
from meinheld import server


# Characters a request target may carry unencoded (RFC 3986); the query keeps its escapes.
_SAFE_IN_PATH = "/:@!$&'()*+,;=-._~"
_SAFE_IN_QUERY = _SAFE_IN_PATH + "?%"
# Header values may hold visible ASCII, spaces, tabs and obs-text (RFC 9110, 5.5).
_BAD_FIELD_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_UNSAFE_IN_LOG = re.compile(r'[^ -~]|["\\]')
_BAD_REQUEST = b"Bad Request\n"


def _escape(text: str) -> str:
    """TEXT with quotes, backslashes and non-printable characters as \\xNN (for a log line)."""
    return _UNSAFE_IN_LOG.sub(lambda match: "\\x%02x" % ord(match[0]), text)


def _strict(app: Callable) -> Callable:
    """Wraps a WSGI app: a request with a control character in a header value, which
    meinheld's parser lets through although HTTP forbids it, gets 400 and never reaches
    the app (meinheld itself cuts a value at a NUL byte)."""

    def checked(environ: dict, start_response: Callable) -> Iterable[bytes]:
        if any(key.startswith("HTTP_") and _BAD_FIELD_VALUE.search(value) for key, value in environ.items()):
            start_response("400 Bad Request", [("Content-Type", "text/plain"),
                                               ("Content-Length", str(len(_BAD_REQUEST))),
                                               ("Connection", "close")])
            return [_BAD_REQUEST]
        return app(environ, start_response)

    return checked


class _ErrorLog:
    """meinheld calls ``error(type, value, traceback)`` for app exceptions."""

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


class _AccessLog:
    """meinheld calls ``access(environ)`` after each response."""

    def __init__(self, log: Logger) -> None:
        self._log = log

    def access(self, environ: dict) -> None:
        """Log one request in the combined log format."""
        if "REQUEST_METHOD" not in environ:
            return  # meinheld also reports connections closed before a request
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
        max_body: int = self.app.max_body
        server.set_error_logger(_ErrorLog(self.log))
        server.set_access_logger(_AccessLog(self.log) if self.cfg.accesslog else None)
        server.set_keepalive(self.cfg.keepalive)
        server.set_picoev_max_fd(self.cfg.worker_connections)
        server.set_max_content_length(max_body)
        # No body is ever larger than the buffer, so none goes to tmpfile().
        server.set_client_body_buffer_size(max_body)
        server.set_watchdog(self._heartbeat)
        server.set_listen_socket([s.fileno() for s in self.sockets])
        server.run(self._counted(_strict(self.wsgi)))

    def _counted(self, app: Callable) -> Callable:
        """Wrap app so the worker retires after max_requests (gunicorn's own Worker
        sets max_requests, with its jitter, but only its own loops count)."""

        def counting(environ: dict, start_response: Callable) -> Iterable[bytes]:
            self.nr += 1
            if self.nr == self.max_requests:
                self.log.info("Autorestarting worker after current request.")
                # Close keep-alive connections after their current response, or clients
                # that keep theirs open would hold this worker (and its memory) alive.
                server.set_keepalive(0)
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
        """SIGTERM: stop accepting, let open requests finish."""
        server.stop(int(self.cfg.graceful_timeout))


"""A minimal gunicorn worker class running meinheld (like the project's, without
its workarounds): ``-k gworker.Worker`` with this directory on PYTHONPATH.
GWORKER_MAX_BODY in the environment, if set, is meinheld's max_content_length."""

import os
import sys

from gunicorn.workers.base import Worker as BaseWorker
from meinheld import server


class _ErrorLog:
    def __init__(self, log):
        self._log = log

    def error(self, exc_type, value, tb):
        self._log.error("Error handling request", exc_info=(exc_type, value, tb))

    def info(self, message):
        """One line per request meinheld rejects (a meinheld that has rejection logging)."""
        self._log.info(message)


class Worker(BaseWorker):
    def run(self):
        server.set_access_logger(None)
        server.set_error_logger(_ErrorLog(self.log))
        server.set_keepalive(self.cfg.keepalive)
        if os.environ.get("GWORKER_MAX_BODY"):
            server.set_max_content_length(int(os.environ["GWORKER_MAX_BODY"]))
        server.set_picoev_max_fd(self.cfg.worker_connections)
        server.set_watchdog(self.notify)
        server.set_listen_socket([s.fileno() for s in self.sockets])
        server.run(self.wsgi)

    def handle_exit(self, sig, frame):
        server.stop(int(self.cfg.graceful_timeout))

    def handle_quit(self, sig, frame):
        server.stop()
        sys.exit(0)

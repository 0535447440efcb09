"""The servers compared on real workloads: the kit's image built with the workload app, and granian,
gunicorn gthread, gunicorn gevent and bjoern serving the same app from host venvs.

Each serves app.main:app on 127.0.0.1 with 2 workers (bjoern: one process), pinned to the server
CPU, access log off, with the app's environment (DATABASE_URL, UPSTREAM_URL). `image-threads=N`
is the image run with THREADS=N (the server's per-worker threads, gunicorn's `threads` setting).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Dict, Optional

from common import BENCH, PodmanStore, host_server, stop_process
from contenders import BJOERN, Contenders, gunicorn_command, granian_command

NAMES = ["image", "granian", "gthread", "gevent", "bjoern"]
THREADS = "16"  # granian's blocking threads and gthread's threads per worker
GEVENT_CONF = BENCH / "apps" / "gunicorn_gevent.py"
IMAGE_NAME = re.compile(r"image(?:-threads=([1-9][0-9]*))?")


def image_threads(name: str) -> Optional[str]:
    """THREADS of an image contender NAME ('' for plain 'image'), None if NAME is not an image contender."""
    match = IMAGE_NAME.fullmatch(name)
    return (match.group(1) or "") if match else None


def describe(name: str) -> str:
    """One line on contender NAME, for the report."""
    threads = image_threads(name)
    if threads is not None:
        return (
            "the kit's image with this app and psycopg2 (built from source against Debian's libpq), read-only "
            "podman container, gunicorn + meinheld, 2 workers"
            + (", THREADS=%s" % threads if threads else ", default settings")
        )
    return {
        "granian": "granian --interface wsgi, 2 workers x %s blocking threads (PyPI wheel), psycopg2-binary" % THREADS,
        "gthread": "gunicorn gthread, 2 workers x %s threads, psycopg2-binary" % THREADS,
        "gevent": "gunicorn gevent, 2 workers, stdlib monkey-patched, psycopg2-binary made cooperative by "
        "psycogreen (bench/apps/gunicorn_gevent.py); one database connection per client connection",
        "bjoern": "bjoern.run, one process, one thread: it cannot overlap waits (a request that waits holds it)",
    }[name]


def valid(name: str) -> bool:
    """NAME is a contender this module can start."""
    return name in NAMES or image_threads(name) is not None


class WorkloadContenders:
    """Starts and stops the contenders serving the app of APP_SOURCE (a folder holding the `app` package),
    or IMAGE (a tag in STORE) for the image ones; ENV is the app's environment."""

    def __init__(
        self,
        app_source: Path,
        venvs: Dict[str, Path],
        env: Dict[str, str],
        store: Optional[PodmanStore] = None,
        image: Optional[str] = None,
    ) -> None:
        self.app_source, self.venvs, self.env, self.store, self.image = app_source, venvs, env, store, image

    def start(self, name: str, port: int) -> subprocess.Popen:
        """Starts contender NAME on 127.0.0.1:PORT; returns its process (not yet ready). Host servers start
        in APP_SOURCE, so that only its `app` package can be imported as such."""
        threads = image_threads(name)
        if threads is not None:
            assert self.store and self.image, "the image contenders need a store and an image"
            env = {**Contenders.launcher_env(port), **self.env, **({"THREADS": threads} if threads else {})}
            return self.store.run(self.image, env=env)
        env = {**self.env, "PYTHONPATH": str(self.app_source), "PYTHONDONTWRITEBYTECODE": "1"}
        if name == "gthread":
            return host_server(gunicorn_command(self.venvs["server"], port) + ["-k", "gthread", "--threads", THREADS, "app.main:app"],
                               env, self.app_source)
        if name == "gevent":
            return host_server(gunicorn_command(self.venvs["gevent"], port) + ["-c", str(GEVENT_CONF), "app.main:app"], env,
                               self.app_source)
        if name == "granian":
            return host_server(granian_command(self.venvs["tools"], port, "--blocking-threads", THREADS), env,
                               self.app_source)
        if name == "bjoern":
            return host_server([str(self.venvs["tools"] / "bin/python"), "-c", BJOERN, str(port)], env, self.app_source)
        raise ValueError("unknown contender %r" % name)

    def stop(self, name: str, process: subprocess.Popen) -> None:
        """Stops contender NAME started as PROCESS."""
        if image_threads(name) is not None:
            assert self.store
            self.store.stop(process)
        else:
            stop_process(process)

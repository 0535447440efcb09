"""The servers compared: the image (and an earlier build of it, when given), the same server
bare on the host, gthread, sync, and the fastest WSGI peers on PyPI, granian and bjoern.

Each serves app.main:app on 127.0.0.1 with 2 workers (bjoern: one process, it has no
workers), pinned to the server CPU, access log off.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Dict, List, Optional

from common import PodmanStore, host_server, stop_process

NAMES = ["image", "previous", "bare", "gthread", "sync", "granian", "bjoern"]
IMAGES = ("image", "previous")
WORKERS = "2"
DESCRIPTIONS = {
    "image": "the image, read-only podman container (image/settings.json security flags), gunicorn + meinheld, 2 workers",
    "previous": "an earlier build of the image (run_all.sh --previous), run exactly as the image",
    "bare": "the same launcher (python -m workload_server) in a host venv (runtime/meinheld/venv.sh), 2 workers",
    "gthread": "gunicorn gthread, 2 workers x 4 threads, same venv",
    "sync": "gunicorn sync, 2 workers, same venv",
    "granian": "granian --interface wsgi, 2 workers (PyPI wheel)",
    "bjoern": "bjoern.run, one process (bjoern has no workers; PyPI source, built against Debian's libev)",
}
BJOERN = "import sys, bjoern, app.main; bjoern.run(app.main.app, '127.0.0.1', int(sys.argv[1]))"


def gunicorn_command(venv: Path, port: int) -> List[str]:
    """gunicorn from VENV on 127.0.0.1:PORT with the contenders' workers (add -k and the app)."""
    return [str(venv / "bin/gunicorn"), "--no-control-socket", "-w", WORKERS, "-b", "127.0.0.1:%d" % port]


def granian_command(venv: Path, port: int, *options: str) -> List[str]:
    """granian from VENV serving app.main:app on 127.0.0.1:PORT with the contenders' workers."""
    return [str(venv / "bin/granian"), "--interface", "wsgi", "--workers", WORKERS, *options,
            "--host", "127.0.0.1", "--port", str(port), "--no-access-log", "app.main:app"]


class Contenders:
    """Starts and stops the contenders; SOURCE holds the runtime/ and app/ the host ones run."""

    def __init__(
        self,
        source: Path,
        server_venv: Path,
        tools_venv: Path,
        store: Optional[PodmanStore] = None,
        images: Optional[Dict[str, str]] = None,
    ) -> None:
        self.source, self.server_venv, self.tools_venv = source, server_venv, tools_venv
        self.store, self.images = store, dict(images or {})

    def start(self, name: str, port: int) -> subprocess.Popen:
        """Starts contender NAME on 127.0.0.1:PORT; returns its process (not yet ready)."""
        app_env = {"PYTHONPATH": str(self.source / "app"), "PYTHONDONTWRITEBYTECODE": "1"}
        gunicorn = gunicorn_command(self.server_venv, port) + ["app.main:app"]
        if name in IMAGES:
            assert self.store and name in self.images, "the %s contender needs a store and an image" % name
            return self.store.run(self.images[name], env=self.launcher_env(port))
        if name == "bare":
            env = {
                **self.launcher_env(port),
                "PYTHONDONTWRITEBYTECODE": "1",
                "PYTHONPATH": "%s:%s" % (self.source / "runtime", self.source / "app"),
            }
            return host_server([str(self.server_venv / "bin/python"), "-m", "workload_server"], env)
        if name == "gthread":
            return host_server(gunicorn + ["-k", "gthread", "--threads", "4"], app_env)
        if name == "sync":
            return host_server(gunicorn + ["-k", "sync"], app_env)
        if name == "granian":
            return host_server(granian_command(self.tools_venv, port), app_env)
        if name == "bjoern":
            return host_server([str(self.tools_venv / "bin/python"), "-c", BJOERN, str(port)], app_env)
        raise ValueError("unknown contender %r" % name)

    def stop(self, name: str, process: subprocess.Popen) -> None:
        """Stops contender NAME started as PROCESS."""
        if name in IMAGES:
            assert self.store
            self.store.stop(process)
        else:
            stop_process(process)

    @staticmethod
    def launcher_env(port: int) -> Dict[str, str]:
        """The workload_server settings every launcher contender gets."""
        return {
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "WEB_CONCURRENCY": WORKERS,
            "ACCESS_LOG": "",
            "LOG_LEVEL": "warning",
        }

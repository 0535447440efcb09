"""The workload image under test ($IMAGE) in a private podman store, read-only.

loaded_store() holds the image (an OCI layout directory) as IMAGE_TAG; Container runs it
on the host network, bound to 127.0.0.1 on a free port, with the security flags of
image/settings.json (the runtime security.PODMAN names), optionally serving the kit's
hello app (runtime/tests/hello) instead of the user's.
"""

import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import image_settings
import security
from testing.podman import IMAGE_TAG, Store, children, wait_for_answer
from testing.ports import free_port

START_TIMEOUT = 30.0


def hello_app_dir() -> Path:
    """A world-readable copy of the kit's hello app (runtime/tests/hello, $HELLO_APP), to
    mount over the image's app directory: the server's tests know its answers."""
    package = Path(os.environ["HELLO_APP"]).resolve().parent
    copy = Path(tempfile.mkdtemp(prefix="hello-", dir=os.environ.get("TEST_TMPDIR")))
    shutil.copytree(package, copy / package.name)
    for path in [copy, *copy.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return copy


def hello_app_flags() -> List[str]:
    """podman flags that serve the kit's hello app instead of the user's: a read-only
    mount over the image's app directory."""
    return ["--volume", f"{hello_app_dir()}:{image_settings.settings()['app_dir']}:ro"]


def loaded_store(infra_image: str = "") -> Store:
    """A private store holding the image under test ($IMAGE) as IMAGE_TAG."""
    store = Store(infra_image, security.PODMAN)
    try:
        store.load(os.environ["IMAGE"])
    except BaseException:
        store.close()
        raise
    return store


class Container:
    """One container of the image, read-only as production, on 127.0.0.1:PORT."""

    def __init__(self, store: Store, purpose: str, env: Optional[Dict[str, str]] = None,
                 flags: Sequence[str] = (), args: Sequence[str] = (), hello: bool = False) -> None:
        """HELLO: serve the kit's hello app instead of the user's (see hello_app_flags())."""
        self.store = store
        self.port = free_port()
        self.name = store.name(purpose)
        self.command = ["--name", self.name, "--network", "host", *security.podman_run_flags(),
                        "--env", "HOST=127.0.0.1", "--env", f"PORT={self.port}"]
        if hello:
            flags = [*hello_app_flags(), *flags]
        for key, value in sorted((env or {}).items()):
            self.command += ["--env", f"{key}={value}"]
        self.command += [*flags, IMAGE_TAG, *args]

    def run(self) -> None:
        """Creates and starts the container in the background."""
        self.store.podman("run", "--detach", *self.command)

    def create(self) -> int:
        """Creates the container and its process, stopped before the entrypoint; returns its PID."""
        self.store.podman("create", *self.command)
        self.store.podman("init", self.name)
        return self.pid()

    def start(self) -> None:
        """Starts a container made by create()."""
        self.store.podman("start", self.name)

    def inspect(self, template: str) -> str:
        """`podman inspect --format TEMPLATE`."""
        return self.store.podman("inspect", "--format", template, self.name).stdout.strip()

    def pid(self) -> int:
        """The host PID of the container's first process (the gunicorn master)."""
        return int(self.inspect("{{.State.Pid}}"))

    def running(self) -> bool:
        """Whether the container is still running."""
        return self.inspect("{{.State.Status}}") == "running"

    def logs(self) -> str:
        """Everything the container wrote to stdout and stderr."""
        result = self.store.podman("logs", self.name, check=False)
        return result.stdout + result.stderr

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        """Waits until GET / gets an HTTP answer (any status: the app's own business);
        fails with the logs if it does not."""
        if wait_for_answer(self.port, self.running, timeout, request_timeout=2) is None:
            raise AssertionError(f"{self.name} did not serve on port {self.port}:\n{self.logs()[-3000:]}")

    def wait_exit(self, timeout: float) -> int:
        """Waits until the container stopped; returns its exit status."""
        result = self.store.podman("wait", self.name, timeout=timeout)
        return int(result.stdout.strip().splitlines()[-1])

    def workers(self) -> List[int]:
        """Host PIDs of the master's children (the workers)."""
        return children(self.pid())

    def wait_workers(self, count: int, timeout: float = START_TIMEOUT) -> List[int]:
        """Waits until the master has COUNT workers (one may answer before the next forks)."""
        deadline = time.monotonic() + timeout
        while len(self.workers()) != count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name}: {len(self.workers())} workers, not {count}:\n"
                                     + self.logs()[-3000:])
            time.sleep(0.05)
        return self.workers()

    def remove(self) -> None:
        """Removes the container (by name)."""
        self.store.remove(self.name)

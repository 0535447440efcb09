"""A real docker-registry on loopback for tests: Debian's distribution registry on a free port."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

from testing.ports import free_port

REGISTRY = "/usr/bin/docker-registry"


class Registry:
    """A docker-registry process on 127.0.0.1 serving from a temporary directory."""

    def __init__(self, workdir: Path, tls: tuple[Path, Path] | None = None, htpasswd: Path | None = None) -> None:
        self.port = free_port()
        lines = [
            "version: 0.1",
            "log: {level: error}",
            f"storage: {{filesystem: {{rootdirectory: {workdir / 'storage'}}}}}",
            "http:",
            f"  addr: 127.0.0.1:{self.port}",
        ]
        if tls:
            lines.append(f"  tls: {{certificate: {tls[0]}, key: {tls[1]}}}")
        if htpasswd:
            lines.append(f"auth: {{htpasswd: {{realm: test, path: {htpasswd}}}}}")
        config = workdir / "registry.yml"
        config.write_text("\n".join(lines) + "\n")
        self.log = open(workdir / "registry.log", "wb")
        self.process = subprocess.Popen([REGISTRY, "serve", str(config)], stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"registry did not start: {(workdir / 'registry.log').read_text()}")
                time.sleep(0.1)

    def stop(self) -> None:
        """Stops the registry process (by its PID) and closes its log."""
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.log.close()

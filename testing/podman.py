"""Private podman stores, and HTTP helpers for the servers tests start.

store_env() points podman at a store of its own in a directory, so the machine's images
and tags are never touched. Store is such a store under $TEST_TMPDIR; containers are
removed by name. (image/tests/containers.py runs the workload image in one.)
"""

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple


IMAGE_TAG = "localhost/workload:test"
STEP_TIMEOUT = 120.0


def store_env(directory: Path, driver: str = "vfs", seen_as: Optional[str] = None,
              infra_image: str = "") -> Dict[str, str]:
    """Writes the configuration of a new podman store in DIRECTORY; returns the environment
    variables that point podman and skopeo at it.

    The store keeps its graph root, run root, temporary files and home below the directory
    and no event log. SEEN_AS: the directory's path where podman will run, if not the same
    (inside the build root). INFRA_IMAGE: the image of pods' infra containers (podman's
    default needs catatonit).
    """
    where = seen_as or str(directory)
    (directory / "storage.conf").write_text(f'[storage]\ndriver = "{driver}"\ngraphroot = "{where}/graph"\n'
                                            f'runroot = "{where}/run"\n')
    (directory / "containers.conf").write_text(
        f'[containers]\nlog_driver = "k8s-file"\n[engine]\ntmp_dir = "{where}/libpod"\nevents_logger = "none"\n'
        + (f'infra_image = "{infra_image}"\n' if infra_image else ""))
    # HOME: podman and skopeo acting as a rootless user (see buildroot/bazel) want one.
    return {"CONTAINERS_STORAGE_CONF": f"{where}/storage.conf", "CONTAINERS_CONF": f"{where}/containers.conf",
            "PODMAN_IGNORE_CGROUPSV1_WARNING": "1", "HOME": where}


def private_env(directory: Path, infra_image: str = "") -> Dict[str, str]:
    """This process's environment pointed at a new store in DIRECTORY (see store_env).

    Without USER: in a user namespace (./bazelw as an ordinary user), runc keeps its state
    where $XDG_RUNTIME_DIR says only if USER is not root, and Bazel gives tests USER=root;
    the runc podman runs and the one conmon runs would then look in two places ("container
    does not exist").
    """
    env = {key: value for key, value in os.environ.items() if key != "USER"}
    return {**env, **store_env(directory, infra_image=infra_image)}


class Store:
    """A private podman/skopeo image store (vfs) in a temporary directory."""

    def __init__(self, infra_image: str = "", podman: Sequence[str] = ("podman",)) -> None:
        """INFRA_IMAGE: the image of pods' infra containers (see store_env); PODMAN: the
        command podman() runs (e.g. with a --runtime)."""
        self.command = list(podman)
        self.root = Path(tempfile.mkdtemp(prefix="store-", dir=os.environ.get("TEST_TMPDIR")))
        self.env = private_env(self.root, infra_image)
        self._names: List[str] = []

    def run(self, command: Sequence[str], timeout: float = STEP_TIMEOUT,
            check: bool = True) -> subprocess.CompletedProcess:
        """Runs a command against this store, bounded in time, capturing its output."""
        result = subprocess.run(list(command), env=self.env, capture_output=True, text=True,
                                timeout=timeout, check=False)
        if check and result.returncode != 0:
            raise AssertionError(f"{' '.join(command)}: exit {result.returncode}\n{result.stderr}")
        return result

    def podman(self, *args: str, timeout: float = STEP_TIMEOUT,
               check: bool = True) -> subprocess.CompletedProcess:
        """Runs `podman ARGS` (the PODMAN command given) on this store."""
        return self.run(self.command + list(args), timeout=timeout, check=check)

    def load(self, layout: str, tag: str = IMAGE_TAG) -> None:
        """Copies the OCI layout directory into this store as TAG."""
        self.run(["skopeo", "copy", "--quiet", f"oci:{layout}", f"containers-storage:{tag}"])

    def name(self, purpose: str) -> str:
        """A container name unique to this process, remembered for close()."""
        name = f"workload-{purpose}-{os.getpid()}-{len(self._names)}"
        self._names.append(name)
        return name

    def remove(self, name: str) -> None:
        """Removes a container by name, whatever its state."""
        self.podman("rm", "--force", "--ignore", "--time", "0", name, check=False)

    def close(self) -> None:
        """Removes every container this store named, then the store itself."""
        for name in self._names:
            self.remove(name)
        shutil.rmtree(self.root, ignore_errors=True)


def children(parent: int) -> List[int]:
    """PIDs whose parent is PARENT (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == parent:
                found.append(int(entry.name))
    return sorted(found)


def read_response(sock: socket.socket, head_only: bool = False) -> Tuple[int, Dict[str, str], bytes]:
    """Reads one HTTP/1.1 response with a Content-Length body (or none for HEAD)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"connection closed after {len(data)} bytes of response head")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        key, _, value = line.partition(":")
        headers[key.strip().lower()] = value.strip()
    length = 0 if head_only else int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"connection closed after {len(body)} of {length} body bytes")
        body += chunk
    return int(lines[0].split()[1]), headers, body


def wait_for_answer(port: int, running: Callable[[], bool], timeout: float,
                    request_timeout: float = 10.0) -> Optional[Tuple[int, Dict[str, str], bytes]]:
    """The (status, headers, body) of GET / on 127.0.0.1:PORT once a server answers there;
    None if RUNNING() turns false or TIMEOUT passes first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            return request(port, b"GET / HTTP/1.1\r\nHost: t\r\n\r\n", timeout=request_timeout)
        except (OSError, ValueError, IndexError):
            pass
        if not running():
            break
        time.sleep(0.1)
    return None


def request(port: int, raw: bytes, timeout: float = 10.0,
            head_only: bool = False) -> Tuple[int, Dict[str, str], bytes]:
    """Sends RAW on a new connection to 127.0.0.1:PORT; returns (status, headers, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(raw)
        return read_response(sock, head_only)

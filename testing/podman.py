"""Private podman stores, and the real workload image run in one, read-only.

store_env() points podman at a store of its own in a directory, so the machine's images
and tags are never touched. Store is such a store under $TEST_TMPDIR; loaded_store()
holds the image under test ($IMAGE, an OCI layout directory). Container runs it on the
host network, bound to 127.0.0.1 on a free port, with the security flags of
image/settings.json; containers are removed by name.
"""

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import image_settings
import security
from testing.ports import free_port

IMAGE_TAG = "localhost/workload:test"
STEP_TIMEOUT = 120.0
START_TIMEOUT = 30.0


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

    def __init__(self, infra_image: str = "") -> None:
        """INFRA_IMAGE: the image of pods' infra containers (see store_env)."""
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
        """Runs `podman ARGS` (with the runtime security.PODMAN names) on this store."""
        return self.run(security.PODMAN + list(args), timeout=timeout, check=check)

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
    store = Store(infra_image)
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

"""A real PostgreSQL server for the tests: Debian's, from the build root, on 127.0.0.1.

It runs as an unprivileged user (PostgreSQL refuses root) in a temporary directory,
listens on a free port, and is stopped when the test session ends.
"""

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from typing import Iterator

import psycopg2
import pytest

START_TIMEOUT = 60.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_unprivileged():
    """A preexec_fn dropping root to 'nobody' (PostgreSQL will not run as root)."""
    if os.getuid() != 0:
        return None
    nobody = pwd.getpwnam("nobody")
    return lambda: (os.setgid(nobody.pw_gid), os.setuid(nobody.pw_uid))


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """postgresql://... of a fresh server, trusted on loopback, for the whole session."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"))
    assert found, "no PostgreSQL server in /usr/lib/postgresql (the kit's build root has one)"
    bindir = os.path.dirname(found[-1])
    home = tempfile.mkdtemp(prefix="postgres-", dir=os.environ.get("TEST_TMPDIR"))
    os.chmod(home, 0o755)
    drop = _as_unprivileged()
    if drop:
        nobody = pwd.getpwnam("nobody")
        os.chown(home, nobody.pw_uid, nobody.pw_gid)
    data = os.path.join(home, "data")
    subprocess.run([os.path.join(bindir, "initdb"), "-D", data, "-U", "test", "--auth=trust", "--no-sync"],
                   preexec_fn=drop, check=True, capture_output=True, timeout=START_TIMEOUT)
    port = _free_port()
    log = open(os.path.join(home, "server.log"), "w+")
    # TCP on loopback only: a Unix socket path under a long temporary directory may not fit.
    server = subprocess.Popen([os.path.join(bindir, "postgres"), "-D", data, "-p", str(port),
                               "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=",
                               "-c", "fsync=off"],
                              preexec_fn=drop, stdout=log, stderr=subprocess.STDOUT)
    url = "postgresql://test@127.0.0.1:%d/postgres" % port
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            psycopg2.connect(url, connect_timeout=2).close()
            break
        except psycopg2.OperationalError:
            log.seek(0)
            assert server.poll() is None, "postgres exited with %s: %s" % (server.returncode, log.read()[-2000:])
            assert time.monotonic() < deadline, "postgres did not accept connections"
            time.sleep(0.1)
    yield url
    server.terminate()
    server.wait(timeout=START_TIMEOUT)
    log.close()
    shutil.rmtree(home, ignore_errors=True)

"""The real image, serving the user's app, writes nothing outside /dev/shm and reads no
Python source.

The container is created and initialised (its first process waits in `runc init`, before
the entrypoint), strace attaches to that process, then the container starts: the trace
covers the whole start-up of the master and its workers, traffic, and the boot of a
replacement worker. PYTHONDONTWRITEBYTECODE is removed from the environment, so only the
launcher itself keeps Python from writing bytecode.
"""

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path
from typing import List, Tuple

import containers
from testing import podman

STORE: podman.Store
CALL = re.compile(r'^(\d+) +(openat|open|creat|execve)\((?:AT_FDCWD, |\d+, )?"([^"]*)"(.*)$')
WRITE_FLAGS = re.compile(r"O_WRONLY|O_RDWR|O_CREAT|O_TRUNC|O_APPEND")


def setUpModule() -> None:
    global STORE
    STORE = containers.loaded_store()


def tearDownModule() -> None:
    STORE.close()


def parse(trace: str, first: int) -> List[Tuple[int, str, str, str]]:
    """(pid, call, path, rest) of each traced call made by the image's programs.

    Calls of FIRST before it executes the entrypoint belong to runc and are left out.
    """
    calls, started = [], False
    for line in trace.splitlines():
        match = CALL.match(line)
        if not match:
            continue
        pid, call, path, rest = int(match[1]), match[2], match[3], match[4]
        if pid == first and not started:
            started = call == "execve"
            if not started:
                continue
        calls.append((pid, call, path, rest))
    return calls


class NoWriteTest(unittest.TestCase):
    def test_start_up_traffic_and_worker_boot(self) -> None:
        container = containers.Container(STORE, "trace", {"WEB_CONCURRENCY": "2"},
                                      ["--unsetenv", "PYTHONDONTWRITEBYTECODE"])
        self.addCleanup(container.remove)
        first = container.create()
        out = Path(tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))) / "trace.txt"
        strace = subprocess.Popen(["/usr/bin/strace", "-f", "-qq", "-s", "1024", "-o", str(out),
                                   "-e", "trace=openat,open,creat,execve", "-p", str(first)],
                                  stderr=subprocess.PIPE)
        self.addCleanup(strace.kill)
        deadline = time.monotonic() + 10
        while "TracerPid:\t0\n" in Path(f"/proc/{first}/status").read_text():
            self.assertLess(time.monotonic(), deadline, "strace did not attach")
            time.sleep(0.05)
        container.start()
        container.wait_ready()
        master = container.pid()
        workers = container.wait_workers(2)
        for index in range(100):
            podman.request(container.port, f"GET /t/{index}?q={index} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
        body = b"b" * 614400  # above meinheld's 512,000-byte spool threshold
        status = podman.request(container.port, b"POST /upload HTTP/1.1\r\nHost: t\r\n"
                                 b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body)[0]
        self.assertIn(status // 100, (2, 3, 4, 5))  # the app's answer, whatever it is
        # SIGTERM to one worker: the master boots a replacement, traced from its fork.
        os.kill(workers[0], signal.SIGTERM)
        deadline = time.monotonic() + 15
        while not set(podman.children(master)) - set(workers):
            self.assertLess(time.monotonic(), deadline, "no replacement worker")
            time.sleep(0.1)
        replacement = (set(podman.children(master)) - set(workers)).pop()
        container.wait_ready()
        for index in range(50):
            podman.request(container.port, f"GET /after/{index} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
        container.remove()
        strace.wait(timeout=30)
        calls = parse(out.read_text(), first)

        self.assertEqual(calls[0][1:3], ("execve", "/usr/bin/python3"))
        pids = {pid for pid, _, _, _ in calls}
        self.assertTrue({first, *workers, replacement} <= pids, (first, workers, replacement, pids))
        pyc = [path for _, call, path, _ in calls if path.endswith(".pyc")]
        self.assertGreater(len(pyc), 100)
        self.assertTrue(any(path.endswith(f"workload_server/__pycache__/worker.{sys.implementation.cache_tag}.pyc")
                            for path in pyc))
        self.assertEqual([path for _, _, path, _ in calls if path.endswith(".py")], [])
        writes = [(path, rest) for _, call, path, rest in calls
                  if call == "creat" or (call != "execve" and WRITE_FLAGS.search(rest))]
        self.assertTrue(writes)  # the heartbeat files
        self.assertEqual([w for w in writes if not w[0].startswith("/dev/shm/")], [])


if __name__ == "__main__":
    unittest.main()

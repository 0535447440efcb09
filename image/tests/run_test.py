"""./bazelw run //:run for real: the //:run program loads the image into podman (a
private store), serves it with image/security.py's settings on a free 127.0.0.1
port, answers a GET, and on Ctrl-C (SIGINT to its process group) exits and leaves no
container behind.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest
import urllib.error
import urllib.request
from pathlib import Path

import image_settings
import security
from testing.podman import private_env
from testing.ports import free_port

START_TIMEOUT = 180  # loading into a fresh vfs store copies every layer
STOP_TIMEOUT = 60


class RunTest(unittest.TestCase):
    """The //:run program against the real podman."""

    def setUp(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR")))
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.env = private_env(self.tmp)
        self.addCleanup(self.podman, "rm", "--all", "--force")

    def podman(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Runs podman (as security.py configures it) on the private store."""
        return subprocess.run(security.PODMAN + list(args), capture_output=True, text=True, env=self.env,
                              timeout=STOP_TIMEOUT, check=False)

    def containers(self) -> list[dict]:
        """Returns `podman ps -a` of the private store."""
        result = self.podman("ps", "--all", "--format", "json")
        self.assertEqual(result.returncode, 0, result.stderr)
        return json.loads(result.stdout or "[]")

    def get(self, port: int, deadline: float, server: subprocess.Popen) -> int:
        """Returns the status of GET / once the server answers (any status: the app's own
        business), polling until DEADLINE."""
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
                    return response.status
            except urllib.error.HTTPError as error:
                return error.code
            except OSError:
                self.assertIsNone(server.poll(), "//:run exited before serving")
                self.assertLess(time.monotonic(), deadline, "//:run did not serve in time")
                time.sleep(0.5)

    @staticmethod
    def kill(server: subprocess.Popen) -> None:
        """Kills SERVER's process group if it still runs (a failed test), and reaps it."""
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=STOP_TIMEOUT)

    def test_serves_read_only_and_cleans_up_on_sigint(self) -> None:
        port = free_port()
        log = open(self.tmp / "run.log", "w+")
        self.addCleanup(log.close)
        command = [os.environ["RUN"], "--load", os.path.abspath(os.environ["LOAD"]),
                   "--repo-tags", os.environ["REPO_TAGS"], "--port", str(port)]
        server = subprocess.Popen(command, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.addCleanup(self.kill, server)

        self.assertIn(self.get(port, time.monotonic() + START_TIMEOUT, server) // 100, (2, 3, 4, 5))
        running = self.containers()
        self.assertEqual(len(running), 1, running)
        name = running[0]["Names"][0]
        self.assertTrue(name.startswith("workload-run-"), name)
        inspect = self.podman("container", "inspect", name)
        self.assertEqual(inspect.returncode, 0, inspect.stderr)
        container = json.loads(inspect.stdout)[0]
        host = container["HostConfig"]
        self.assertEqual(container["Config"]["User"], image_settings.user_spec())
        self.assertIs(host["ReadonlyRootfs"], True)
        self.assertEqual(host["NetworkMode"], "host")
        self.assertIn("no-new-privileges", host["SecurityOpt"])
        self.assertEqual((container["EffectiveCaps"] or [], container["BoundingCaps"] or []), ([], []))
        # podman names an image without a registry localhost/NAME.
        self.assertEqual(container["Config"]["Image"], "localhost/" + Path(os.environ["REPO_TAGS"]).read_text().split()[0])

        os.killpg(server.pid, signal.SIGINT)
        try:
            code = server.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.fail("//:run did not exit after SIGINT")
        log.seek(0)
        self.assertEqual(code, 0, log.read())
        self.assertEqual(self.podman("ps", "--all", "--filter", f"name={name}", "--format", "{{.Names}}").stdout, "")
        self.assertEqual(self.containers(), [])
        with self.assertRaises(OSError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5)


if __name__ == "__main__":
    unittest.main()

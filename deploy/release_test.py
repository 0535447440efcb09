"""release.py pushes the real image index (amd64 and arm64) to a real docker-registry on
loopback and writes the manifests that run exactly the pushed digest."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

from testing.ports import free_port
from testing.registry import Registry

import layout
import render
import version

RELEASE = Path(__file__).with_name("release.py")
INIT_PY = Path(os.environ["INIT_PY"]).absolute()
STEP_TIMEOUT = 120


def image_digest() -> str:
    """The digest of what //:push pushes: the image index (each node pulls its CPU's image)."""
    return layout.top_descriptor(Path(os.environ["PUSHED"]))["digest"]


class ReleaseTest(unittest.TestCase):
    def setUp(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR")))
        self.env = {**os.environ, "HOME": str(self.tmp), "REGISTRY_AUTH_FILE": ""}
        # A workspace holding what release.py reads from the checkout, and its scratch files.
        self.workspace = self.tmp / "workspace"
        (self.workspace / "app" / "app").mkdir(parents=True)
        shutil.copyfile(INIT_PY, self.workspace / "app" / "app" / "__init__.py")

    def release(self, *args: str) -> subprocess.CompletedProcess:
        """Runs release.py with the push executable and ARGS."""
        return subprocess.run([sys.executable, str(RELEASE), "--workspace", str(self.workspace),
                               *args, "--push", os.environ["PUSH"]],
                              capture_output=True, text=True, timeout=STEP_TIMEOUT, env=self.env, check=False)

    def test_pushes_and_sets_the_digest(self) -> None:
        (self.tmp / "registry").mkdir()
        registry = Registry(self.tmp / "registry")
        self.addCleanup(registry.stop)
        repository = f"127.0.0.1:{registry.port}/workload"
        output = self.tmp / "release.yaml"
        result = self.release("--repository", repository, "--output", str(output))
        self.assertEqual(result.returncode, 0, result.stderr)
        reference = f"{repository}@{image_digest()}"
        self.assertEqual(output.read_text(), render.dump(render.manifests(reference)))
        self.assertEqual(output.read_text().count(reference), 1)
        tag = version.image_tag(version.read_version(INIT_PY))
        self.assertEqual(sorted(path.name for path in self.workspace.iterdir()), ["app"])  # scratch removed
        inspect = subprocess.run(["/usr/bin/skopeo", "inspect", "--tls-verify=false", f"docker://{repository}:{tag}"],
                                 capture_output=True, text=True, timeout=STEP_TIMEOUT, env=self.env, check=False)
        self.assertEqual(inspect.returncode, 0, inspect.stderr)
        self.assertEqual(json.loads(inspect.stdout)["Digest"], image_digest())
        self.assertIn(f"release: {repository}:{tag} is {reference}", result.stderr)

    def test_unreachable_registry_is_one_line_and_writes_nothing(self) -> None:
        output = self.tmp / "release.yaml"
        result = self.release("--repository", f"127.0.0.1:{free_port()}/workload", "--output", str(output))
        self.assertEqual(result.returncode, 1)
        self.assertRegex(result.stderr.strip().splitlines()[-1], r"^release: error: push to .* failed \(exit \d+\)$")
        self.assertNotIn("Traceback", result.stderr)
        self.assertFalse(output.exists())


if __name__ == "__main__":
    unittest.main()

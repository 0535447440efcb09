"""./bazelw run //:push for real: the //:push executable uploads //:image to Debian's
docker-registry on a free loopback port, tagged with the app's version.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

import version
from testing.image_layout import image_under_test
from testing.registry import Registry

STEP_TIMEOUT = 120


class PushTest(unittest.TestCase):
    """//:push against a real registry."""

    def setUp(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR")))
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.env = {**os.environ, "HOME": str(self.tmp), "REGISTRY_AUTH_FILE": ""}
        registry = Registry(Path(tempfile.mkdtemp(dir=self.tmp)))
        self.addCleanup(registry.stop)
        self.repository = f"127.0.0.1:{registry.port}/workload"

    def inspect(self, tag: str) -> dict:
        """Returns `skopeo inspect` of the pushed image's TAG."""
        result = subprocess.run(["/usr/bin/skopeo", "inspect", "--tls-verify=false", f"docker://{self.repository}:{tag}"],
                                capture_output=True, text=True, timeout=STEP_TIMEOUT, env=self.env, check=False)
        self.assertEqual(result.returncode, 0, result.stderr)
        return json.loads(result.stdout)

    def test_push_with_version_tag_and_digest_file(self) -> None:
        digest = image_under_test().digest
        app_version = version.read_version(Path(os.environ["INIT_PY"]))
        digest_file = self.tmp / "digest.txt"
        result = subprocess.run([os.environ["PUSH"], "--repository", self.repository, "--digest-file", str(digest_file)],
                                capture_output=True, text=True, timeout=STEP_TIMEOUT, env=self.env, check=False)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, f"{self.repository}@{digest}\n")
        self.assertEqual(digest_file.read_text(), result.stdout)
        pushed = self.inspect(version.image_tag(app_version))
        self.assertEqual(pushed["Digest"], digest)
        self.assertEqual(sorted(pushed["RepoTags"]), sorted([version.image_tag(app_version), "latest"]))
        self.assertEqual(pushed["Labels"]["org.opencontainers.image.version"], app_version)
        self.assertEqual(self.inspect("latest")["Digest"], digest)


if __name__ == "__main__":
    unittest.main()

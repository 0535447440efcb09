"""./bazelw run //:push for real: the //:push executable uploads the image index (the
every architecture's image) to Debian's docker-registry on a free loopback port,
tagged with the app's version.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

import layout
import version
from image_layout import images_under_test
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

    def inspect(self, reference: str, *flags: str) -> dict:
        """Returns `skopeo inspect FLAGS` of the pushed REFERENCE (":TAG" or "@DIGEST")."""
        result = subprocess.run(["/usr/bin/skopeo", "inspect", "--tls-verify=false", *flags, f"docker://{self.repository}{reference}"],
                                capture_output=True, text=True, timeout=STEP_TIMEOUT, env=self.env, check=False)
        self.assertEqual(result.returncode, 0, result.stderr)
        return json.loads(result.stdout)

    def test_push_with_version_tag_and_digest_file(self) -> None:
        digest = layout.top_descriptor(Path(os.environ["INDEX"]))["digest"]
        app_version = version.read_version(Path(os.environ["INIT_PY"]))
        digest_file = self.tmp / "digest.txt"
        result = subprocess.run([os.environ["PUSH"], "--repository", self.repository, "--digest-file", str(digest_file)],
                                capture_output=True, text=True, timeout=STEP_TIMEOUT, env=self.env, check=False)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, f"{self.repository}@{digest}\n")
        self.assertEqual(digest_file.read_text(), result.stdout)
        tag = ":" + version.image_tag(app_version)
        # The tag names the index of both images, each by its own digest and platform.
        index = self.inspect(tag, "--raw")
        self.assertEqual(index["mediaType"], layout.INDEX_MEDIA_TYPE)
        images = images_under_test()
        self.assertEqual({(m["platform"]["os"], m["platform"]["architecture"]): m["digest"] for m in index["manifests"]},
                         {("linux", arch): image.digest for arch, image in images.items()})
        self.assertEqual(self.inspect(":latest", "--raw"), index)
        for architecture in images:
            pushed = self.inspect(tag, "--override-arch", architecture)
            self.assertEqual(pushed["Architecture"], architecture)
            self.assertEqual(pushed["Labels"]["org.opencontainers.image.version"], app_version)
            self.assertEqual(sorted(pushed["RepoTags"]), sorted([version.image_tag(app_version), "latest"]))


if __name__ == "__main__":
    unittest.main()

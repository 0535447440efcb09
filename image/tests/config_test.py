"""//:image's config runs the workload as production expects, with nothing but Python.

User 1000:1000, port 8080, the server launched by Python directly (no shell in any
layer), the version of app/app/__init__.py as label and as the tags //:load gives the
image. (PYTHONDONTWRITEBYTECODE is checked with the bytecode, in image_pyc_test.)
"""

from __future__ import annotations

import json
import os
import posixpath
import tarfile
import unittest
from pathlib import Path

import version
from image_layout import image_under_test

SHELLS = {"sh", "bash", "dash"}


class ConfigTest(unittest.TestCase):
    """The image config and layers of //:image."""

    @classmethod
    def setUpClass(cls) -> None:
        cls.image = image_under_test()
        cls.config = cls.image.config["config"]
        cls.version = version.read_version(Path(os.environ["INIT_PY"]))

    def test_runs_as_workload_user_on_port_8080(self) -> None:
        self.assertEqual(self.config["User"], "1000:1000")
        self.assertEqual(self.config["ExposedPorts"], {"8080/tcp": {}})
        self.assertIn("PORT=8080", self.config["Env"])

    def test_entrypoint_is_python_without_shell(self) -> None:
        self.assertEqual(self.config["Entrypoint"], ["/usr/bin/python3", "-m", "workload_server"])
        self.assertNotIn("Cmd", self.config)

    def test_no_shell_in_any_layer(self) -> None:
        names = [(index, info.name) for index, info in self.image.members()]
        self.assertGreater(len(names), 1000, "the layers look empty")
        self.assertIn((0, "usr/bin/python3.11"), [(i, n.removeprefix("./")) for i, n in names])
        shells = [(i, n) for i, n in names if posixpath.basename(n.rstrip("/")) in SHELLS]
        self.assertEqual(shells, [])

    def test_version_label_is_app_version(self) -> None:
        self.assertEqual(self.config["Labels"]["org.opencontainers.image.version"], self.version)

    def test_load_uses_the_version_repo_tags(self) -> None:
        repo_tags = Path(os.environ["REPO_TAGS"]).read_text().split()
        self.assertEqual(repo_tags, ["workload:" + version.image_tag(self.version), "workload:latest"])
        with tarfile.open(os.environ["LOAD_TARBALL"]) as tarball:
            manifest = json.load(tarball.extractfile("manifest.json"))
        self.assertEqual(len(manifest), 1)
        self.assertEqual(manifest[0]["RepoTags"], repo_tags)
        self.assertEqual(manifest[0]["Config"], "blobs/sha256/" + self.image.manifest["config"]["digest"][7:])


if __name__ == "__main__":
    unittest.main()

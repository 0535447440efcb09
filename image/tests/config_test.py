"""//:image's config runs the workload as production expects, with nothing but Python.

The user, port, entry point and environment of image/settings.json (a user that is not
root, an unprivileged port), the server launched by Python directly (no shell in any
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

import image_settings
import version
from image_layout import image_under_test

SETTINGS = image_settings.settings()

SHELLS = {"sh", "bash", "dash"}


class ConfigTest(unittest.TestCase):
    """The image config and layers of //:image."""

    @classmethod
    def setUpClass(cls) -> None:
        cls.image = image_under_test()
        cls.config = cls.image.config["config"]
        cls.version = version.read_version(Path(os.environ["INIT_PY"]))

    def test_runs_as_the_settings_user_not_root_on_an_unprivileged_port(self) -> None:
        self.assertEqual(self.config["User"], image_settings.user_spec())
        self.assertNotEqual(SETTINGS["user"]["uid"], 0)
        port = SETTINGS["port"]
        self.assertGreaterEqual(port, 1024)
        self.assertEqual(self.config["ExposedPorts"], {f"{port}/tcp": {}})
        self.assertIn(f"PORT={port}", self.config["Env"])
        self.assertEqual(self.config["WorkingDir"], SETTINGS["app_dir"])

    def test_environment_is_the_settings(self) -> None:
        env = dict(item.split("=", 1) for item in self.config["Env"])
        self.assertEqual(env, {**SETTINGS["env"], "PORT": str(SETTINGS["port"]), "PYTHONPATH": SETTINGS["app_dir"]})

    def test_entrypoint_is_python_without_shell(self) -> None:
        self.assertEqual(self.config["Entrypoint"], [SETTINGS["python"], "-m", SETTINGS["server_module"]])
        self.assertNotIn("Cmd", self.config)

    def test_no_shell_in_any_layer(self) -> None:
        names = [(index, info.name) for index, info in self.image.members()]
        self.assertGreater(len(names), 1000, "the layers look empty")
        base = image_settings.layer_index("base")
        self.assertIn((base, SETTINGS["python"].lstrip("/")), [(i, n.removeprefix("./")) for i, n in names])
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

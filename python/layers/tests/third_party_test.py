"""The third-party layer: its packages, no build paths, reproducible bytes.

Usage: third_party_test.py LAYER TWIN RECOMPILED
  LAYER       //python/layers:third_party
  TWIN        a second py_layer with the same deps (built by separate actions)
  RECOMPILED  py_compile_layer of LAYER's "sources" output group (the tar before its
              bytecode step): the bytecode step run a second time
"""

import os
import sys
import unittest
from pathlib import Path

from layer_reader import Layer

LAYER, TWIN, RECOMPILED = sys.argv[1:4]
SITE = "usr/lib/python3/dist-packages"
BUILD_PATHS = [
    b"/root/.cache",
    b"/var/cache/bazelw",
    b"bazel-out",
    b"execroot",
    b"/tmp/pip-",
    b"-sandbox/",
    b"_bazel_",
]


class ThirdPartyLayerTest(unittest.TestCase):
    """Checks //python/layers:third_party."""

    @classmethod
    def setUpClass(cls) -> None:
        cls.layer = Layer(LAYER)

    def test_packages_present(self) -> None:
        members = self.layer.members
        for name in [
            "gunicorn/__init__.py",
            "gunicorn/__pycache__/__init__.cpython-311.pyc",
            "gunicorn/workers/base.py",
            "meinheld/__init__.py",
            "meinheld/gmeinheld.py",
            "meinheld/server.cpython-311-x86_64-linux-gnu.so",
            "greenlet/__init__.py",
            "greenlet/_greenlet.cpython-311-x86_64-linux-gnu.so",
        ]:
            self.assertIn(f"{SITE}/{name}", members)
        dist_infos = {n.split("/")[4] for n in members if n.startswith(SITE + "/") and ".dist-info" in n}
        self.assertEqual(
            {d.split("-")[0] for d in dist_infos}, {"greenlet", "gunicorn", "meinheld"}, dist_infos
        )
        for dist_info in dist_infos:
            for required in ("METADATA", "RECORD", "WHEEL"):
                self.assertIn(f"{SITE}/{dist_info}/{required}", members)

    def test_only_site_packages_content(self) -> None:
        for name, info in self.layer.members.items():
            with self.subTest(name=name):
                self.assertTrue(name.startswith(SITE + "/") or SITE.startswith(name), name)
                self.assertNotIn(name.rsplit("/", 1)[-1], ("BUILD", "BUILD.bazel"))
                self.assertFalse(name.endswith(".whl"))
                self.assertEqual((info.uid, info.gid, info.uname, info.gname, info.mtime), (0, 0, "", "", 0))
                self.assertEqual(info.mode, 0o755 if info.isdir() else 0o644)
                self.assertTrue(info.isdir() or info.isreg())
        self.assertNotIn(f"{SITE}/__init__.py", self.layer.members)
        self.assertNotIn(f"{SITE}/__pycache__", self.layer.members)

    def test_no_build_machine_paths(self) -> None:
        markers = BUILD_PATHS + [os.getcwd().encode()]
        for name, data in self.layer.data.items():
            for marker in markers:
                self.assertNotIn(marker, data, f"{name} contains {marker!r}")

    def test_twin_build_identical(self) -> None:
        self.assertEqual(Path(LAYER).read_bytes(), Path(TWIN).read_bytes())

    def test_bytecode_step_rerun_identical(self) -> None:
        self.assertEqual(Path(LAYER).read_bytes(), Path(RECOMPILED).read_bytes())


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1])

"""The third-party layer: every locked package whole, the kit's launcher, nothing else.

Usage: third_party_test.py LAYER TWIN RECOMPILED LOCK FILTER SOURCE_LOCK...
  LAYER       the third-party layer of //:python_layers
  TWIN        the same layer from a second py_image_layer with the same inputs
  RECOMPILED  py_compile_layer of LAYER's sources (the bytecode step run a second time)
  LOCK        requirements_lock.txt: the packages the layer must hold, and only those
              (the entries whose marker holds on the image of $DEBIAN_LOCK)
  FILTER      python/layers/filter.json: what the layer leaves out
  SOURCE_LOCK a package the kit builds from source (runtime/meinheld/source.json)
$SITE_PACKAGES is where the packages go.
"""

import csv
import fnmatch
import io
import json
import os
import posixpath
import sys
import unittest
from email.parser import HeaderParser
from pathlib import Path
from typing import Dict, List

import lockcheck
from layer_reader import Layer

LAYER, TWIN, RECOMPILED, LOCK, FILTER = sys.argv[1:6]
SOURCE_LOCKS = sys.argv[6:]
SITE = os.environ["SITE_PACKAGES"].strip("/")
# The kit's own module in this layer: the server launcher.
KIT_MODULE = "workload_server"
BUILD_PATHS = [
    b"/root/.cache",
    b"/var/cache/bazelw",
    b"bazel-out",
    b"execroot",
    b"/tmp/pip-",
    b"-sandbox/",
    b"_bazel_",
]


def record_paths(record: bytes) -> List[str]:
    """The file paths a RECORD lists, relative to site-packages."""
    return [row[0] for row in csv.reader(io.StringIO(record.decode("utf-8"))) if row]


class ThirdPartyLayerTest(unittest.TestCase):
    """Checks the third-party layer against the lock."""

    @classmethod
    def setUpClass(cls) -> None:
        cls.layer = Layer(LAYER)
        cls.dist_infos = sorted({n.split("/")[len(SITE.split("/"))] for n in cls.layer.members
                                 if n.startswith(SITE + "/") and ".dist-info" in n})
        cls.drop = sorted(json.loads(Path(FILTER).read_text())["drop"])

    def metadata(self, dist_info: str) -> Dict[str, str]:
        """The METADATA fields of a dist-info directory of the layer."""
        message = HeaderParser().parsestr(self.layer.data[f"{SITE}/{dist_info}/METADATA"].decode())
        return {key: str(value) for key, value in message.items()}

    def test_every_locked_package_and_nothing_else(self) -> None:
        environment = lockcheck.environment_of(json.loads(Path(os.environ["DEBIAN_LOCK"]).read_text()))
        locked, problems = lockcheck.parse_lock(Path(LOCK).read_text(), LOCK, environment)
        self.assertEqual(problems, [])
        self.assertTrue(locked)
        expected = {name: entry[0] for name, entry in locked.items()}
        for path in SOURCE_LOCKS:
            source = json.loads(Path(path).read_text())
            expected[lockcheck.canonical_name(source["name"])] = "%s+%s" % (source["version"], source["local_version"])
        found = {}
        for dist_info in self.dist_infos:
            fields = self.metadata(dist_info)
            found[lockcheck.canonical_name(fields["Name"])] = fields["Version"]
        self.assertEqual(found, expected)

    def test_every_dist_info_whole_and_every_recorded_file_present(self) -> None:
        for dist_info in self.dist_infos:
            with self.subTest(dist_info=dist_info):
                for required in ("METADATA", "RECORD", "WHEEL"):
                    self.assertIn(f"{SITE}/{dist_info}/{required}", self.layer.members)
                for path in record_paths(self.layer.data[f"{SITE}/{dist_info}/RECORD"]):
                    image_path = posixpath.normpath(f"/{SITE}/{path}")
                    if path.startswith("../") or ".data/" in path or path.endswith(".pyc"):
                        continue  # scripts and data outside site-packages; bytecode is rebuilt
                    if any(fnmatch.fnmatchcase(image_path, glob) for glob in self.drop):
                        self.assertNotIn(image_path[1:], self.layer.members, "the filter's drop kept it")
                    else:
                        self.assertIn(image_path[1:], self.layer.members)

    def test_kit_launcher_present(self) -> None:
        for name in ("__init__.py", "__main__.py", f"__pycache__/__main__.{sys.implementation.cache_tag}.pyc"):
            self.assertIn(f"{SITE}/{KIT_MODULE}/{name}", self.layer.members)

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

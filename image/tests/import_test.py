"""The layers' modules import from their bytecode without reading any source.

Usage: import_test.py THIRD_PARTY.tar APP.tar (run on the image's Python; $SITE_PACKAGES
and $APP_DIR say where the layers put their packages).
Unpacks both layers into one read-only tree, then imports, in a fresh interpreter under
strace: the app's main module, the kit's launcher and every top-level module of every
distribution in the third-party layer (read from its RECORD), and checks which files it
opened.
"""

import csv
import io
import json
import os
import re
import shutil
import site
import stat
import subprocess
import sys
import tarfile
import tempfile
import unittest
from pathlib import Path
from typing import List, Set

LAYERS = sys.argv[1:3]
SITE = os.environ["SITE_PACKAGES"]
APP_DIR = os.environ["APP_DIR"]
FIRST_PARTY = ["app.main", "workload_server"]
CHILD = """
import importlib, json, sys
failed = {}
for name in sys.argv[1:]:
    try:
        importlib.import_module(name)
    except Exception as error:
        failed[name] = "%s: %s" % (type(error).__name__, error)
cached = {m.__name__: m.__spec__.cached for m in list(sys.modules.values())
          if getattr(m, "__spec__", None) and m.__spec__.origin and m.__spec__.origin.endswith(".py")}
print(json.dumps({"failed": failed, "cached": cached}))
"""
# File names of extension modules (foo.cpython-3XY-x86_64-linux-gnu.so, foo.abi3.so, foo.so).
EXTENSION = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\..*\.so$|^([A-Za-z_][A-Za-z0-9_]*)\.so$")


def top_level_modules(site_packages: Path) -> Set[str]:
    """The importable top-level names every distribution's RECORD installs."""
    names: Set[str] = set()
    for record in site_packages.glob("*.dist-info/RECORD"):
        for row in csv.reader(io.StringIO(record.read_text(encoding="utf-8"))):
            first = row[0].split("/")[0] if row else ""
            if not first or first.endswith((".dist-info", ".data")) or first in ("..", "__pycache__"):
                continue
            if "/" in row[0] and (site_packages / first / "__init__.py").is_file():
                names.add(first)
            elif first.endswith(".py") and "/" not in row[0]:
                names.add(first[:-3])
            elif EXTENSION.match(first) and "/" not in row[0]:
                match = EXTENSION.match(first)
                names.add(match.group(1) or match.group(2))
    return names


def make_read_only(root: Path) -> None:
    """Remove every write permission below root."""
    for path in [root, *root.rglob("*")]:
        path.chmod(stat.S_IMODE(path.lstat().st_mode) & ~0o222)


class ImportFromLayersTest(unittest.TestCase):
    """Imports every module the layers offer, from bytecode, on a read-only tree."""

    def test_site_packages_is_on_debian_sys_path(self) -> None:
        self.assertIn(SITE, site.getsitepackages(["/usr"]))

    def test_imports_open_bytecode_only(self) -> None:
        strace = shutil.which("strace")
        self.assertIsNotNone(strace, "strace is part of the build root")
        with tempfile.TemporaryDirectory() as scratch:
            root = Path(scratch, "root")
            root.mkdir()
            for layer in LAYERS:
                with tarfile.open(layer) as tar:
                    tar.extractall(root)
            third_party = sorted(top_level_modules(root / SITE.lstrip("/")) - {"workload_server"})
            self.assertTrue(third_party, "no distribution in the third-party layer")
            modules: List[str] = FIRST_PARTY + third_party
            before = sorted(str(p) for p in root.rglob("*"))
            make_read_only(root)
            log = Path(scratch, "strace.log")
            env = {
                "PYTHONDONTWRITEBYTECODE": "1",
                "PYTHONPATH": f"{root}{SITE}:{root}{APP_DIR}",
                "LANG": "C.UTF-8",
            }
            command = [strace, "-f", "-qq", "-e", "trace=open,openat", "-o", str(log),
                       sys.executable, "-c", CHILD, *modules]
            result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
            self.assertEqual(result.returncode, 0, result.stderr)
            opened = set(re.findall(r'open(?:at)?\((?:[A-Z_]+, )?"([^"]+)"', log.read_text()))
            self.assertEqual(before, sorted(str(p) for p in root.rglob("*")), "the import wrote files")

        report = json.loads(result.stdout)
        self.assertEqual(report["failed"], {}, "modules that do not import")
        under_root = {p for p in opened if p.startswith(str(root))}
        self.assertEqual(sorted(p for p in under_root if p.endswith(".py")), [], "sources were read")
        layer_modules = {m: c for m, c in report["cached"].items() if c and c.startswith(str(root))}
        for module in FIRST_PARTY:
            self.assertIn(module, layer_modules)
        for module, cached in layer_modules.items():
            self.assertIn(cached, under_root, f"{module}: its pyc was not opened")


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1])

"""The server's modules import from the layers' bytecode without reading any source.

Usage: import_test.py THIRD_PARTY.tar APP.tar (run on the image's python3.11).
Unpacks both layers into one read-only tree, imports the workload's modules in a fresh
interpreter under strace, and checks which files it opened.
"""

import json
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

LAYERS = sys.argv[1:3]
# Pure-Python modules of the server and the app; meinheld.server is its C extension.
PY_MODULES = ["app.main", "greenlet", "gunicorn.app.wsgiapp", "gunicorn.arbiter", "meinheld.gmeinheld"]
MODULES = PY_MODULES + ["meinheld.server"]
CHILD = """
import importlib, importlib.metadata, json, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
versions = {d: importlib.metadata.version(d) for d in ("greenlet", "gunicorn", "meinheld")}
workers = [e.name for e in importlib.metadata.entry_points(group="gunicorn.workers")]
cached = {m.__name__: m.__spec__.cached for m in list(sys.modules.values())
          if getattr(m, "__spec__", None) and m.__spec__.origin and m.__spec__.origin.endswith(".py")}
print(json.dumps({"versions": versions, "workers": workers, "cached": cached}))
"""


def make_read_only(root: Path) -> None:
    """Remove every write permission below root."""
    for path in [root, *root.rglob("*")]:
        path.chmod(stat.S_IMODE(path.lstat().st_mode) & ~0o222)


class ImportFromLayersTest(unittest.TestCase):
    """Imports gunicorn, meinheld, greenlet and the app from the unpacked layers."""

    def test_dist_packages_is_on_debian_sys_path(self) -> None:
        self.assertIn("/usr/lib/python3/dist-packages", site.getsitepackages(["/usr"]))

    def test_imports_open_bytecode_only(self) -> None:
        strace = shutil.which("strace")
        self.assertIsNotNone(strace, "strace is part of the build root")
        with tempfile.TemporaryDirectory() as scratch:
            root = Path(scratch, "root")
            root.mkdir()
            for layer in LAYERS:
                with tarfile.open(layer) as tar:
                    tar.extractall(root)
            before = sorted(str(p) for p in root.rglob("*"))
            make_read_only(root)
            log = Path(scratch, "strace.log")
            env = {
                "PYTHONDONTWRITEBYTECODE": "1",
                "PYTHONPATH": f"{root}/usr/lib/python3/dist-packages:{root}/app",
                "LANG": "C.UTF-8",
            }
            result = subprocess.run(
                [
                    strace,
                    "-f",
                    "-qq",
                    "-e",
                    "trace=open,openat",
                    "-o",
                    str(log),
                    sys.executable,
                    "-c",
                    CHILD,
                    *MODULES,
                ],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            self.assertEqual(result.returncode, 0, result.stderr)
            opened = set(re.findall(r'open(?:at)?\((?:[A-Z_]+, )?"([^"]+)"', log.read_text()))
            self.assertEqual(before, sorted(str(p) for p in root.rglob("*")), "the import wrote files")

        under_root = {p for p in opened if p.startswith(str(root))}
        self.assertEqual(sorted(p for p in under_root if p.endswith(".py")), [], "sources were read")
        report = json.loads(result.stdout)
        self.assertEqual(report["versions"]["meinheld"], "1.0.2")
        self.assertIn("gunicorn_worker", report["workers"])
        layer_modules = {m: c for m, c in report["cached"].items() if c and c.startswith(str(root))}
        for module in PY_MODULES:
            self.assertIn(module, layer_modules)
        for module, cached in layer_modules.items():
            self.assertIn(cached, under_root, f"{module}: its pyc was not opened")


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1])

"""The bytecode tool on small tars made here, and on Debian's whole standard library.

Usage: pyc_tool_test.py PYC_TOOL PYC_PY STDLIB_FILE... (PYC_PY: the tool's source, run on
another Python to see it refuse; STDLIB_FILE: any files of @debian's standard library;
the test tars up the .py files below their usr/lib/pythonX.Y). It runs on the image's
Python, whose version and cache tag it takes for the tool's.
"""

import importlib.util
import io
import marshal
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import unittest
from pathlib import Path
from typing import Dict, List, Tuple

import tarout
from layer_reader import NO_PYC_FILE, Layer

PYC_TOOL, PYC_TOOL_SOURCE = sys.argv[1:3]
STDLIB_FILES = sys.argv[3:]
VERSION = "%d.%d" % sys.version_info[:2]
TAG = sys.implementation.cache_tag
STDLIB = f"usr/lib/python{VERSION}/"


def make_tar(path: Path, files: Dict[str, bytes], links: Tuple[Tuple[str, str], ...] = ()) -> None:
    """Write a tar of regular files and symbolic links (name, target)."""
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name, target in links:
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            tar.addfile(info)


class PycToolTest(unittest.TestCase):
    """Runs the real tool as a subprocess."""

    def setUp(self) -> None:
        self.scratch = Path(tempfile.mkdtemp())
        self.no_pyc = self.scratch / "no_pyc.txt"
        self.no_pyc.write_text("/opt/templates/*.py  templates, not Python\n")

    def run_tool(self, src: Path, no_pyc: str = "") -> Tuple[subprocess.CompletedProcess, Path]:
        """Run the tool on src; return the process and the output path."""
        out = src.with_suffix(".out.tar")
        args = [PYC_TOOL, "--no-pyc", no_pyc or str(self.no_pyc), "--python-version", VERSION, str(src), str(out)]
        return subprocess.run(args, capture_output=True, text=True, check=False), out

    def test_help(self) -> None:
        result = subprocess.run([PYC_TOOL, "--help"], capture_output=True, text=True, check=True)
        self.assertIn("unchecked hash-based", result.stdout)

    def test_compiles_listed_and_linked_sources(self) -> None:
        src = self.scratch / "in.tar"
        make_tar(
            src,
            {
                "./opt/pkg/mod.py": b"X = {'a', 'b'}\n",
                "./opt/templates/t.py": b"{{ not python }}\n",
                "./etc/real.py": b"Y = 1\n",
            },
            links=(("./opt/pkg/abs.py", "/etc/real.py"), ("./opt/pkg/rel.py", "mod.py")),
        )
        result, out = self.run_tool(src)
        self.assertEqual(result.returncode, 0, result.stderr)
        layer = Layer(str(out))
        self.assertFalse(any(i.name.startswith(("./", "/")) for i in layer.infos))
        for name in [
            f"opt/pkg/__pycache__/mod.{TAG}.pyc",
            f"opt/pkg/__pycache__/abs.{TAG}.pyc",
            f"opt/pkg/__pycache__/rel.{TAG}.pyc",
            f"etc/__pycache__/real.{TAG}.pyc",
        ]:
            self.assertIn(name, layer.members)
        self.assertNotIn("opt/templates/__pycache__", layer.members)
        linked = layer.data[f"opt/pkg/__pycache__/abs.{TAG}.pyc"]
        self.assertEqual(linked[8:16], importlib.util.source_hash(b"Y = 1\n"))
        self.assertEqual(marshal.loads(linked[16:]).co_filename, "/opt/pkg/abs.py")
        again, out2 = self.run_tool(src)
        self.assertEqual(out.read_bytes(), out2.read_bytes())

    def test_refuses_other_python(self) -> None:
        src = self.scratch / "other.tar"
        make_tar(src, {"m.py": b"pass\n"})
        other = shutil.which("python3")  # the build root's Python, pinned to 3.14
        self.assertIsNotNone(other)
        tool = Path(PYC_TOOL_SOURCE)
        env = {"PYTHONPATH": os.pathsep.join([str(tool.parent), str(Path(tarout.__file__).parent)]),
               "PYTHONDONTWRITEBYTECODE": "1"}
        result = subprocess.run(
            [other, str(tool), "--no-pyc", str(self.no_pyc), "--python-version", VERSION, str(src),
             str(self.scratch / "o.tar")],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertIn(f"must run on the image's CPython {VERSION}, not cpython 3.", result.stderr)
        self.assertNotIn("Traceback", result.stderr)

    def test_unlisted_syntax_error_fails_naming_file(self) -> None:
        src = self.scratch / "bad.tar"
        make_tar(src, {"usr/lib/x/bad.py": b"print 'python 2'\n", "usr/lib/x/ok.py": b"pass\n"})
        result, out = self.run_tool(src)
        self.assertEqual(result.returncode, 1)
        self.assertIn("/usr/lib/x/bad.py", result.stderr)
        self.assertNotIn("Traceback", result.stderr)
        self.assertFalse(out.exists())

    def test_refuses_existing_bytecode(self) -> None:
        src = self.scratch / "pyc.tar"
        make_tar(src, {"a/m.py": b"pass\n", f"a/__pycache__/m.{TAG}.pyc": b"stale"})
        result, _ = self.run_tool(src)
        self.assertEqual(result.returncode, 1)
        self.assertIn(f"/a/__pycache__/m.{TAG}.pyc", result.stderr)

    def test_dangling_link_fails(self) -> None:
        src = self.scratch / "link.tar"
        make_tar(src, {}, links=(("a/m.py", "/elsewhere/m.py"),))
        result, _ = self.run_tool(src)
        self.assertEqual(result.returncode, 1)
        self.assertIn("/elsewhere/m.py", result.stderr)

    def test_debian_stdlib_compiles_with_project_list(self) -> None:
        files: List[Tuple[str, Path]] = []
        for path in STDLIB_FILES:
            marker = "/" + STDLIB
            if path.endswith(".py") and marker in path and "/__pycache__/" not in path:
                files.append((STDLIB + path.split(marker, 1)[1], Path(path)))
        self.assertGreater(len(files), 500)
        src = self.scratch / "stdlib.tar"
        make_tar(src, {name: disk.read_bytes() for name, disk in files})
        result, out = self.run_tool(src, no_pyc=NO_PYC_FILE)
        self.assertEqual(result.returncode, 0, result.stderr)
        pycs = [n for n in Layer(str(out)).members if n.endswith(f".{TAG}.pyc")]
        self.assertGreater(len(pycs), 500)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1])

"""Every pyc in the given layer tars is valid for the image's Python and its source.

Usage: pyc_test.py LAYER.tar... (run on the image's Python: its cache tag is the layers').
"""

import importlib.util
import marshal
import posixpath
import sys
import types
import unittest
from pathlib import Path

from layer_reader import NO_PYC_FILE, Layer, exempt, read_no_pyc

LAYERS = sys.argv[1:]
TAG = sys.implementation.cache_tag


def code_objects(code: types.CodeType):
    """Yield code and every code object nested in its constants."""
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from code_objects(const)


class PycTest(unittest.TestCase):
    """Checks each layer's bytecode against the running interpreter and the sources."""

    def test_runs_on_image_python(self) -> None:
        self.assertEqual(sys.implementation.name, "cpython")

    def test_every_pyc_matches_its_source(self) -> None:
        self.assertTrue(LAYERS)
        for path in LAYERS:
            layer = Layer(path)
            pycs = [n for n in layer.members if n.endswith(".pyc")]
            self.assertTrue(pycs, f"{path} has no pyc")
            for name in pycs:
                with self.subTest(layer=path, pyc=name):
                    directory, filename = posixpath.split(name)
                    stem, tag, ext = filename.rsplit(".", 2)
                    self.assertEqual(
                        (posixpath.basename(directory), tag, ext), ("__pycache__", TAG, "pyc")
                    )
                    source_name = posixpath.join(posixpath.dirname(directory), stem + ".py")
                    self.assertIn(source_name, layer.members, "pyc without source")
                    info = layer.members[name]
                    self.assertEqual((info.uid, info.gid, info.mtime, info.mode), (0, 0, 0, 0o644))
                    self.assertEqual(layer.members[directory].mode, 0o755)
                    pyc = layer.data[name]
                    self.assertEqual(pyc[:4], importlib.util.MAGIC_NUMBER)
                    self.assertEqual(int.from_bytes(pyc[4:8], "little"), 0b01, "not unchecked-hash")
                    self.assertEqual(pyc[8:16], importlib.util.source_hash(layer.read(source_name)))
                    code = marshal.loads(pyc[16:])
                    self.assertEqual({c.co_filename for c in code_objects(code)}, {"/" + source_name})

    def test_every_source_has_pyc_unless_listed(self) -> None:
        rules = read_no_pyc(Path(NO_PYC_FILE))
        for path in LAYERS:
            layer = Layer(path)
            for name, info in layer.members.items():
                if not name.endswith(".py") or info.isdir():
                    continue
                parent, filename = posixpath.split(name)
                pyc = posixpath.join(parent, "__pycache__", f"{filename[:-3]}.{TAG}.pyc")
                with self.subTest(layer=path, source=name):
                    self.assertEqual(pyc in layer.members, not exempt("/" + name, rules))

    def test_entries_sorted(self) -> None:
        for path in LAYERS:
            names = [i.name for i in Layer(path).infos]
            self.assertEqual(names, sorted(names), path)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1])

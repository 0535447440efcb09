"""The resolver, run offline on fixture Packages indexes: same input, same bytes; clear errors."""

import copy
import unittest
from pathlib import Path

import resolve

TESTDATA = Path(__file__).resolve().parent / "testdata"
CONFIG = {
    "distribution": "bookworm",
    "architecture": "amd64",
    "archives": {"main": ["bookworm"], "security": ["bookworm-security"]},
    "sets": {"image": ["app"], "sysroot": ["libc6"]},
    "skip": {"debconf": "not in the image"},
}


def archive() -> resolve.Archive:
    """Reads the fixture indexes the way lock() reads downloaded ones."""
    result = resolve.Archive()
    for name in ("main", "security"):
        result.add(name, resolve.parse_index((TESTDATA / ("Packages." + name)).read_text()))
    return result


class LockTest(unittest.TestCase):
    def test_same_input_gives_same_bytes(self) -> None:
        first = resolve.render(resolve.lock_document(copy.deepcopy(CONFIG), archive()))
        second = resolve.render(resolve.lock_document(copy.deepcopy(CONFIG), archive()))
        self.assertEqual(first.encode(), second.encode())

    def test_closure_newest_version_and_sets(self) -> None:
        entries = {e["name"]: e for e in resolve.lock_document(CONFIG, archive())["packages"]}
        self.assertEqual(sorted(entries), ["app", "libc6", "libfoo1", "tiny-mta"])
        self.assertEqual(entries["libc6"]["version"], "2.36-9+deb12u1")
        self.assertEqual(entries["libc6"]["archive"], "security")
        self.assertEqual(entries["libc6"]["sets"], ["image", "sysroot"])
        self.assertEqual(entries["app"]["sets"], ["image"])

    def test_unknown_package_is_named(self) -> None:
        config = copy.deepcopy(CONFIG)
        config["sets"]["image"].append("no-such-package")
        with self.assertRaisesRegex(resolve.ResolveError, r"unknown package 'no-such-package' \(set image"):
            resolve.lock_document(config, archive())

    def test_unsatisfiable_dependency_is_named(self) -> None:
        config = copy.deepcopy(CONFIG)
        config["skip"] = {}
        with self.assertRaisesRegex(resolve.ResolveError, "app depends on debconf, which no suite provides"):
            resolve.lock_document(config, archive())


if __name__ == "__main__":
    unittest.main()

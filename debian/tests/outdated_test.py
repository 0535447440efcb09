"""outdated.compare on the fixture indexes: locked -> available per package, security marked."""

import unittest
from pathlib import Path

import outdated
import resolve

TESTDATA = Path(__file__).resolve().parent / "testdata"


def archive() -> resolve.Archive:
    """The fixture indexes, read as the resolver reads downloaded ones."""
    result = resolve.Archive()
    for name in ("main", "security"):
        result.add(name, resolve.parse_index((TESTDATA / ("Packages." + name)).read_text()))
    return result


def entry(name: str, version: str) -> dict:
    """A lock entry (only the fields compare reads)."""
    return {"name": name, "version": version}


class CompareTest(unittest.TestCase):
    def test_each_package_with_its_available_version(self) -> None:
        rows = outdated.compare([entry("libfoo1", "2.0-1"), entry("libc6", "2.36-9"), entry("app", "0.9-1"),
                                 entry("vanished", "1.0")], archive())
        self.assertEqual(rows, [
            ("app", "0.9-1", "1.0-1", "newer"),
            ("libc6", "2.36-9", "2.36-9+deb12u1", "security"),
            ("libfoo1", "2.0-1", "2.0-1", ""),
            ("vanished", "1.0", "-", "gone"),
        ])


class MergeTest(unittest.TestCase):
    def test_one_line_where_architectures_agree_else_one_per_architecture(self) -> None:
        same = ("libfoo1", "2.0-1", "2.0-1", "")
        rows = outdated.merge({
            "amd64": [("libc6", "2.36-9", "2.36-9+deb12u1", "security"), same],
            "arm64": [("libc6", "2.36-9", "2.36-9", ""), same, ("only-arm", "1", "1", "")],
        })
        self.assertEqual(rows, [
            ("libc6:amd64", "2.36-9", "2.36-9+deb12u1", "security"),
            ("libc6:arm64", "2.36-9", "2.36-9", ""),
            same,
            ("only-arm:arm64", "1", "1", ""),
        ])


if __name__ == "__main__":
    unittest.main()

"""The ABI check's architectures (debian/tools/elf.py) agree with debian/architectures.bzl."""

import json
import sys
import unittest

import elf

STARLARK = sys.argv.pop(1)


class ArchitecturesTest(unittest.TestCase):
    def test_same_names_triplets_and_machine_types(self) -> None:
        with open(STARLARK, encoding="utf-8") as handle:
            expected = {name: (a["triplet"], a["elf_machine"]) for name, a in json.load(handle).items()}
        actual = {name: (a.triplet, a.machine) for name, a in elf.ARCHITECTURES.items()}
        self.assertEqual(actual, expected)


if __name__ == "__main__":
    unittest.main()

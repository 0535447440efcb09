"""A universal lock installed for every architecture: each gets exactly the entries whose
marker holds on its machine (xopen everywhere; isal, which xopen 1.7 needs on x86_64
only, there alone), as lockcheck reads the lock for that machine.
"""

import os
import re
import unittest
from pathlib import Path
from typing import Dict, Set

import lockcheck
import markers


def installed() -> Dict[str, Set[str]]:
    """Per architecture, the distributions whose dist-info its @pypi_machines aliases give."""
    found: Dict[str, Set[str]] = {}
    arch = ""
    for word in os.environ["INSTALLED"].split():  # ARCH=PATH PATH... per architecture
        if re.match(r"^[a-z0-9]+=", word):
            arch, word = word.split("=", 1)
            found[arch] = set()
        path = word
        dist_info = next((p for p in Path(path).parts if p.endswith(".dist-info")), None)
        if dist_info:
            found[arch].add(lockcheck.canonical_name(dist_info.removesuffix(".dist-info").rsplit("-", 1)[0]))
    return found


class MachinesTest(unittest.TestCase):
    def test_each_architecture_gets_what_its_markers_allow(self) -> None:
        by_arch = installed()
        self.assertEqual(by_arch["amd64"], {"isal", "xopen"})
        self.assertEqual(by_arch["arm64"], {"xopen"})

    def test_the_lock_reads_the_same_per_machine(self) -> None:
        text = Path(os.environ["LOCK"]).read_text()
        for arch, machine in (("amd64", "x86_64"), ("arm64", "aarch64")):
            locked, problems = lockcheck.parse_lock(text, "machines_lock.txt", markers.marker_environment(machine, "3.13", "3.13.5"))
            self.assertEqual(problems, [])
            self.assertEqual(set(locked), installed()[arch], arch)


if __name__ == "__main__":
    unittest.main()

"""The registered toolchain is Debian's Python of the lock, on Debian's own libraries.

Versions come from the Debian lock, so the test follows a re-resolved lock.
"""

import json
import ssl
import sqlite3
import subprocess
import sys
import unittest


def locked_upstream_version(name: str) -> str:
    """Returns the upstream part of a locked package's Debian version (no epoch or revision);
    NAME may be a prefix (libssl3 is libssl3t64 on Debian 13)."""
    with open(sys.argv[1]) as lock:
        packages = {p["name"]: p["version"] for p in json.load(lock)["packages"]}
    found = packages.get(name) or next(v for n, v in sorted(packages.items()) if n.startswith(name))
    return found.split(":")[-1].rsplit("-", 1)[0]


class ToolchainTest(unittest.TestCase):
    def test_interpreter_is_the_locked_python(self) -> None:
        print("sys.version:", sys.version)
        with open(sys.argv[1]) as lock:
            python = json.load(lock)["python"]
        self.assertEqual("%d.%d" % sys.version_info[:2], python)
        self.assertTrue(sys.version.startswith(locked_upstream_version(f"python{python}-minimal") + " "), sys.version)

    def test_shared_libraries_are_the_locked_ones(self) -> None:
        self.assertIn(" %s " % locked_upstream_version("libssl3"), ssl.OPENSSL_VERSION)
        self.assertEqual(sqlite3.sqlite_version, locked_upstream_version("libsqlite3-0"))

    def test_child_interpreters_run_the_same_way(self) -> None:
        child = subprocess.run([sys.executable, "-c", "import ssl; print(ssl.OPENSSL_VERSION)"],
                               capture_output=True, text=True, check=True)
        self.assertEqual(child.stdout.strip(), ssl.OPENSSL_VERSION)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1])

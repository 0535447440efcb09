"""The app's version: semantic versioning, and printable from app/ by a real interpreter."""

import os
import re
import subprocess
import sys
import unittest

import support

# The official regular expression from semver.org (named-group form without names).
SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)


class VersionTest(unittest.TestCase):
    """``__version__`` and the ``cd app && python -c ...`` command."""

    def test_interpreter(self) -> None:
        print("sys.version:", sys.version)
        print("sys.executable:", sys.executable)
        self.assertGreaterEqual(sys.version_info[:2], (3, 8))

    def test_version_is_semver(self) -> None:
        self.assertRegex(support.app.__version__, SEMVER)

    def test_semver_regex_rejects_non_semver(self) -> None:
        for bad in ("1.0", "v1.0.0", "01.0.0", "1.0.0-", "1.0.0.0", "1.0.0-01"):
            with self.subTest(version=bad):
                self.assertNotRegex(bad, SEMVER)

    def test_version_command_in_a_subprocess(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        done = subprocess.run(
            [sys.executable, "-c", "import app; print(app.__version__)"],
            cwd=str(support.APP_DIR),
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(done.stdout, support.app.__version__ + "\n")


if __name__ == "__main__":
    unittest.main()

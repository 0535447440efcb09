"""Tests of image/version.py: the version read from source, semver checks, tag mapping."""

import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

import version


class VersionTest(unittest.TestCase):
    def run_tool(self, source: str, *extra: str) -> subprocess.CompletedProcess:
        tmp = Path(tempfile.mkdtemp())
        (tmp / "__init__.py").write_text(source)
        command = [sys.executable, version.__file__, str(tmp / "__init__.py"), "--title", "w",
                   "--labels", str(tmp / "labels"), "--tags", str(tmp / "tags"),
                   "--repository", "workload", "--repo-tags", str(tmp / "repo_tags"), *extra]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        self.tmp = tmp
        return result

    def test_reads_version_without_importing(self) -> None:
        result = self.run_tool('import does_not_exist\n__version__ = "2.3.4"\n', "--latest")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("org.opencontainers.image.version=2.3.4\n", (self.tmp / "labels").read_text())
        self.assertEqual((self.tmp / "tags").read_text(), "2.3.4\nlatest\n")
        self.assertEqual((self.tmp / "repo_tags").read_text(), "workload:2.3.4\nworkload:latest\n")

    def test_build_metadata_maps_to_underscore_in_tag_only(self) -> None:
        result = self.run_tool('__version__ = "1.2.3-rc.1+build.7"\n')
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual((self.tmp / "tags").read_text(), "1.2.3-rc.1_build.7\n")
        self.assertIn("version=1.2.3-rc.1+build.7\n", (self.tmp / "labels").read_text())

    def test_not_semver_fails_with_one_line(self) -> None:
        for bad in ("1.0", "v1.0.0", "01.0.0", "1.0.0-", "1.0.0+"):
            result = self.run_tool('__version__ = "%s"\n' % bad)
            self.assertEqual(result.returncode, 1, bad)
            self.assertEqual(len(result.stderr.strip().splitlines()), 1, result.stderr)
            self.assertIn("not semantic versioning", result.stderr)

    def test_missing_version_fails(self) -> None:
        result = self.run_tool("VERSION = '1.0.0'\n")
        self.assertEqual(result.returncode, 1)
        self.assertIn("no __version__", result.stderr)

    def test_stamp_status_adds_revision_and_source(self) -> None:
        status = Path(tempfile.mkdtemp()) / "stable-status.txt"
        status.write_text("STABLE_GIT_COMMIT abc123\nSTABLE_GIT_REMOTE https://example.invalid/r.git\nBUILD_HOST x\n")
        result = self.run_tool('__version__ = "1.0.0"\n', "--status", str(status))
        self.assertEqual(result.returncode, 0, result.stderr)
        labels = (self.tmp / "labels").read_text()
        self.assertIn("org.opencontainers.image.revision=abc123\n", labels)
        self.assertIn("org.opencontainers.image.source=https://example.invalid/r.git\n", labels)
        self.assertNotIn("BUILD_HOST", labels)


if __name__ == "__main__":
    unittest.main()

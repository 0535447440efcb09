"""pytest_main.py runs a test file under pytest: fixtures, parametrize and plain assert
work, a failing assert fails the run with pytest's report, and Bazel's filter applies."""

import os
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path
from typing import Dict

MAIN = Path(__file__).resolve().with_name("pytest_main.py")
CONFTEST = """
import pytest

@pytest.fixture
def numbers():
    return [1, 2, 3]
"""
PASSING = """
import pytest

@pytest.mark.parametrize("n", [1, 2, 3])
def test_in(numbers, n):
    assert n in numbers

def test_sum(numbers):
    assert sum(numbers) == 6
"""
FAILING = """
def test_total(numbers):
    total = sum(numbers)
    assert total == 7
"""


class PytestMainTest(unittest.TestCase):
    """The runner as a subprocess on test files written here."""

    def run_file(self, source: str, **env: str) -> subprocess.CompletedProcess:
        folder = Path(tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR")))
        (folder / "conftest.py").write_text(CONFTEST)
        (folder / "test_it.py").write_text(source)
        environ: Dict[str, str] = {k: v for k, v in os.environ.items()
                                   if k not in ("XML_OUTPUT_FILE", "TESTBRIDGE_TEST_ONLY")}
        environ.update(env)
        return subprocess.run([sys.executable, str(MAIN), str(folder / "test_it.py")], cwd=str(folder),
                              env=environ, capture_output=True, text=True, timeout=120, check=False)

    def test_fixtures_parametrize_and_assert_pass(self) -> None:
        done = self.run_file(PASSING)
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        self.assertIn("4 passed", done.stdout)

    def test_a_failing_assert_fails_with_pytests_report(self) -> None:
        done = self.run_file(FAILING)
        self.assertEqual(done.returncode, 1, done.stdout + done.stderr)
        self.assertIn("assert 6 == 7", done.stdout)
        self.assertIn("FAILED", done.stdout)

    def test_test_filter_and_junit_xml(self) -> None:
        xml = Path(tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))) / "test.xml"
        done = self.run_file(PASSING, TESTBRIDGE_TEST_ONLY="test_sum", XML_OUTPUT_FILE=str(xml))
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        self.assertIn("1 passed, 3 deselected", done.stdout)
        self.assertIn('name="test_sum"', xml.read_text())

    def test_nothing_written_beside_the_tests(self) -> None:
        done = self.run_file(PASSING)
        self.assertEqual(done.returncode, 0)
        folder = Path(done.args[-1]).parent
        self.assertEqual(sorted(p.name for p in folder.iterdir()), ["conftest.py", "test_it.py"])


if __name__ == "__main__":
    unittest.main()

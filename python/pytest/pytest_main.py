"""Runs one test file under pytest, as Bazel's py_test for it (see defs.bzl).

Usage: pytest_main.py TEST_FILE [PYTEST ARGS...]
Under `bazel test` it writes pytest's JUnit XML where Bazel asks ($XML_OUTPUT_FILE) and
turns --test_filter ($TESTBRIDGE_TEST_ONLY) into pytest's -k. pytest's cache and its
rewritten-assertion bytecode are not written: the runfiles tree is not the place.
"""

import os
import sys
from typing import List

import pytest


def pytest_args(argv: List[str], environ: "os._Environ[str]") -> List[str]:
    """The pytest command line for ARGV (a test file first) under Bazel's ENVIRON."""
    args = list(argv) + ["-p", "no:cacheprovider", "-o", "console_output_style=classic"]
    if environ.get("XML_OUTPUT_FILE"):
        args += ["--junitxml", environ["XML_OUTPUT_FILE"]]
    if environ.get("TESTBRIDGE_TEST_ONLY"):
        args += ["-k", environ["TESTBRIDGE_TEST_ONLY"]]
    return args


def main() -> int:
    """Run pytest; its exit status is the test's."""
    if len(sys.argv) < 2 or sys.argv[1] in ("-h", "--help"):
        print(__doc__)
        return 0 if len(sys.argv) >= 2 else 2
    sys.dont_write_bytecode = True
    return int(pytest.main(pytest_args(sys.argv[1:], os.environ)))


if __name__ == "__main__":
    sys.exit(main())

"""Tests markers.bzl, the PEP 508 marker evaluator, by running it as Python.

markers.bzl is written in the part of Starlark that is also Python 3, so exec runs it
here. It is found in $MARKERS (set by the py_test) or beside this file.
"""

import os
import unittest
from typing import Any, Dict

MARKERS = os.environ.get("MARKERS") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "markers.bzl")


def load_markers() -> Dict[str, Any]:
    """The globals of markers.bzl, run as Python."""
    with open(MARKERS, encoding="utf-8") as source:
        code = compile(source.read(), MARKERS, "exec")
    scope: Dict[str, Any] = {}
    exec(code, scope)  # noqa: S102: markers.bzl is the code under test
    return scope


BZL = load_markers()
evaluate_marker = BZL["evaluate_marker"]
marker_environment = BZL["marker_environment"]
split_requirement = BZL["split_requirement"]

X86 = marker_environment("x86_64", "3.13", "3.13.5")
ARM = marker_environment("aarch64", "3.13", "3.13.5")

# marker -> (holds on x86_64, holds on aarch64), both with CPython 3.13.5 on Linux.
CASES = {
    "": (True, True),
    "platform_machine == 'aarch64'": (False, True),
    'platform_machine == "x86_64"': (True, False),
    "platform_machine != 'aarch64'": (True, False),
    "python_full_version >= '3.9' and platform_machine == 'x86_64'": (True, False),
    "python_full_version < '3.9' and platform_machine == 'x86_64'": (False, False),
    "sys_platform == 'win32'": (False, False),
    "sys_platform != 'win32'": (True, True),
    "sys_platform == 'linux'": (True, True),
    "platform_system == 'Windows'": (False, False),
    "os_name == 'nt'": (False, False),
    "implementation_name == 'cpython'": (True, True),
    "platform_python_implementation != 'PyPy'": (True, True),
    "platform_python_implementation == 'PyPy' or sys_platform == 'darwin'": (False, False),
    "(platform_machine == 'aarch64' or platform_machine == 'x86_64') and python_version < '3.14'": (True, True),
    "(platform_machine == 'aarch64' or platform_machine == 'x86_64') and python_version >= '3.14'": (False, False),
    "platform_machine == 'aarch64' or platform_machine == 'x86_64' and python_version >= '3.14'": (False, True),
    "(platform_machine == 'aarch64' or platform_machine == 'x86_64') and (sys_platform == 'linux')": (True, True),
    "((platform_machine == 'aarch64'))": (False, True),
    "platform_machine == 'AMD64' or platform_machine == 'WIN32' or platform_machine == 'aarch64'"
    " or platform_machine == 'amd64' or platform_machine == 'ppc64le' or platform_machine == 'win32'"
    " or platform_machine == 'x86_64'": (True, True),
    "'linux' in sys_platform": (True, True),
    "'win' in sys_platform": (False, False),
    "platform_machine not in 'x86_64 aarch64'": (False, False),
    "platform_machine not in 'ppc64le s390x'": (True, True),
    "platform_machine in 'aarch64 arm64'": (False, True),
    "'aarch64' == platform_machine": (False, True),
    "platform_machine=='aarch64'and sys_platform=='linux'": (False, True),
    "platform.machine == 'aarch64'": (False, True),
    "platform_machine === 'aarch64'": (False, True),
    # Versions compare as versions, not strings ('3.13' > '3.9').
    "python_version > '3.9'": (True, True),
    "python_version < '3.9'": (False, False),
    "python_version >= '3.13'": (True, True),
    "python_version == '3.13'": (True, True),
    "python_version == '3.13.0'": (True, True),
    "python_version != '3.13'": (False, False),
    "python_version <= '3.12'": (False, False),
    "python_version == '3.*'": (True, True),
    "python_version != '3.13.*'": (False, False),
    "python_full_version >= '3.13.1'": (True, True),
    "python_full_version < '3.13.10'": (True, True),
    "python_full_version == '3.13'": (False, False),
    "python_full_version >= '3.13.0rc1'": (True, True),
    "python_full_version ~= '3.13.2'": (True, True),
    "python_full_version ~= '3.13.6'": (False, False),
    "python_version ~= '3.11'": (True, True),
    "python_version ~= '4.0'": (False, False),
    "'3.9' < python_version": (True, True),
    "implementation_version >= '3.13'": (True, True),
    "extra == 'tests'": (False, False),
}


class EvaluateMarkerTest(unittest.TestCase):
    """evaluate_marker on uv's markers and the rest of PEP 508."""

    def test_cases(self) -> None:
        for marker, (on_x86, on_arm) in CASES.items():
            with self.subTest(marker=marker):
                self.assertEqual(evaluate_marker(marker, X86), (on_x86, ""))
                self.assertEqual(evaluate_marker(marker, ARM), (on_arm, ""))

    def test_versions_compare_as_numbers(self) -> None:
        env = marker_environment("x86_64", "3.10", "3.10.0")
        self.assertEqual(evaluate_marker("python_version > '3.9'", env), (True, ""))
        self.assertEqual(evaluate_marker("python_full_version > '3.9.20'", env), (True, ""))
        self.assertEqual(evaluate_marker("python_version < '3.9'", env), (False, ""))
        pre = marker_environment("x86_64", "3.14", "3.14.0rc2")
        self.assertEqual(evaluate_marker("python_full_version >= '3.14'", pre), (False, ""))
        self.assertEqual(evaluate_marker("python_full_version >= '3.14.0rc1'", pre), (True, ""))
        self.assertEqual(evaluate_marker("python_full_version < '3.14.0.dev1'", pre), (False, ""))
        post = marker_environment("x86_64", "3.14", "3.14.0.post1")
        self.assertEqual(evaluate_marker("python_full_version > '3.13.9'", post), (True, ""))
        self.assertEqual(evaluate_marker("python_full_version >= '3.14.0'", post), (True, ""))
        # PEP 440: <V takes no pre-release of V, >V no post-release of V.
        self.assertEqual(evaluate_marker("python_full_version < '3.14'", pre), (False, ""))
        self.assertEqual(evaluate_marker("python_full_version < '3.14.0rc3'", pre), (True, ""))
        self.assertEqual(evaluate_marker("python_full_version > '3.14.0'", post), (False, ""))

    def test_other_variables_compare_as_strings(self) -> None:
        env = dict(X86, platform_release="5.10.0")
        self.assertEqual(evaluate_marker("platform_release > '5.9'", env), (False, ""))
        self.assertEqual(evaluate_marker("platform_machine < 'y'", X86), (True, ""))

    def test_extras_are_normalized(self) -> None:
        env = dict(X86, extra="Foo_Bar")
        self.assertEqual(evaluate_marker("extra == 'foo-bar'", env), (True, ""))

    def test_malformed(self) -> None:
        for marker in [
            "platform_machine = 'aarch64'",
            "platform_machine == 'aarch64",
            "platform_machine == aarch64",
            "platform_machine == 'aarch64' and",
            "and platform_machine == 'aarch64'",
            "platform_machine == 'aarch64' or or sys_platform == 'linux'",
            "(platform_machine == 'aarch64'",
            "platform_machine == 'aarch64')",
            "()",
            "platform_machine 'aarch64'",
            "platform_machine ==",
            "== 'aarch64'",
            "platform_machine not 'aarch64'",
            "not platform_machine == 'aarch64'",
            "platform_machine == 'aarch64' sys_platform == 'linux'",
            "(sys_platform == 'linux') (platform_machine == 'aarch64')",
            "platform_machine ~= 'aarch64'",
            "python_version ~= '3'",
            "cpu == 'aarch64'",
            "platform_machine == 'aarch64' & sys_platform == 'linux'",
        ]:
            with self.subTest(marker=marker):
                value, error = evaluate_marker(marker, X86)
                self.assertFalse(value)
                self.assertIn(repr(marker), error)
                self.assertNotIn("\n", error)

    def test_missing_variable(self) -> None:
        value, error = evaluate_marker("platform_machine == 'x86_64'", {"sys_platform": "linux"})
        self.assertFalse(value)
        self.assertIn("platform_machine", error)


class MarkerEnvironmentTest(unittest.TestCase):
    """marker_environment: CPython on Linux with glibc."""

    def test_values(self) -> None:
        self.assertEqual(
            marker_environment("aarch64", "3.13", "3.13.5"),
            {
                "platform_machine": "aarch64",
                "sys_platform": "linux",
                "platform_system": "Linux",
                "os_name": "posix",
                "implementation_name": "cpython",
                "implementation_version": "3.13.5",
                "platform_python_implementation": "CPython",
                "python_version": "3.13",
                "python_full_version": "3.13.5",
                "platform_release": "",
                "platform_version": "",
                "extra": "",
            },
        )


HASHES = "--hash=sha256:" + "0" * 64 + " --hash=sha256:" + "1" * 64


class SplitRequirementTest(unittest.TestCase):
    """split_requirement on entries as parse_lock in extension.bzl joins them."""

    def test_no_marker(self) -> None:
        entry = "greenlet==3.5.6 " + HASHES
        self.assertEqual(split_requirement(entry), (entry, ""))

    def test_marker(self) -> None:
        self.assertEqual(
            split_requirement("greenlet==3.5.6 ; platform_machine == 'aarch64' " + HASHES),
            ("greenlet==3.5.6 " + HASHES, "platform_machine == 'aarch64'"),
        )

    def test_marker_without_spaces_or_hashes(self) -> None:
        self.assertEqual(
            split_requirement("idna==3.21;python_full_version >= '3.10' and platform_machine != 'aarch64'"),
            ("idna==3.21", "python_full_version >= '3.10' and platform_machine != 'aarch64'"),
        )

    def test_quoted_dashes_stay_in_the_marker(self) -> None:
        self.assertEqual(
            split_requirement("x==1 ; platform_release == '5 --x' " + HASHES),
            ("x==1 " + HASHES, "platform_release == '5 --x'"),
        )


if __name__ == "__main__":
    unittest.main()

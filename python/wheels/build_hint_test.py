"""build_hint.py on real failures: the sysroot's compiler missing a header, a setup.py
missing a program, and Debian's real Contents index naming the packages to add.

Usage: build_hint_test.py CC (the sysroot's compiler wrapper, @python//:cc);
$DEBIAN_MIRROR is the Debian archive (./bazelw sets it; .bazelrc passes it to tests),
$DEBIAN_LOCK the lock whose suite to search.
"""

import json
import os
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

import build_hint

CC = sys.argv[1]
SUITE = json.loads(Path(os.environ["DEBIAN_LOCK"]).read_text())["distribution"]
MIRROR = os.environ.get("DEBIAN_MIRROR", "").rstrip("/")


def pkg_config_tries(*modules: str) -> str:
    """What a setup.py that tries the real pkg-config for each module in turn prints, as
    mysqlclient's does: each failed check, then a message naming none of them."""
    script = ("import subprocess, sys\n"
              "for name in sys.argv[1:]:\n"
              "    try:\n"
              "        subprocess.check_call(f'pkg-config --exists {name}', shell=True)\n"
              "    except subprocess.CalledProcessError as error:\n"
              "        print(error)\n"
              "print('Exception: Can not find valid pkg-config name.')\n")
    return subprocess.run([sys.executable, "-c", script, *modules], capture_output=True, text=True,
                          check=True).stdout


def compile_output(source: str) -> str:
    """What the sysroot's compiler says about SOURCE (which must fail)."""
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch, "ext.c")
        path.write_text(source)
        done = subprocess.run([CC, "-c", str(path), "-o", str(path.with_suffix(".o"))],
                              capture_output=True, text=True, check=False)
    assert done.returncode != 0, "the compile was expected to fail"
    return done.stdout + done.stderr


class FindMissingTest(unittest.TestCase):
    """What a failed build lacks, read from its output."""

    def test_a_header_the_sysroot_lacks(self) -> None:
        missing = build_hint.find_missing(compile_output("#include <libpq-fe.h>\nint x;\n"))
        self.assertEqual(missing.what, "the header libpq-fe.h")

    def test_a_program_setup_py_looks_for(self) -> None:
        missing = build_hint.find_missing("Error: pg_config executable not found.\n")
        self.assertEqual(missing.what, "the program pg_config")

    def test_a_library_the_linker_lacks(self) -> None:
        missing = build_hint.find_missing("/usr/bin/ld: cannot find -lmariadb: No such file or directory\n")
        self.assertEqual(missing.what, "the library libmariadb")

    def test_pkg_config_modules_tried_in_turn(self) -> None:
        missing = build_hint.find_missing(pkg_config_tries("nosuch-a", "nosuch-b"))
        self.assertEqual(missing.what, "the pkg-config module nosuch-a or nosuch-b")

    def test_nothing_recognised(self) -> None:
        self.assertIsNone(build_hint.find_missing("error: invalid command 'bdist_wheel'\n"))


class HintTest(unittest.TestCase):
    """The line, from Debian's real indexes."""

    def setUp(self) -> None:
        self.assertTrue(MIRROR, "DEBIAN_MIRROR is not set (run the tests through ./bazelw)")

    def test_a_missing_header_names_the_dev_package_and_its_library(self) -> None:
        line = build_hint.hint(compile_output("#include <libpq-fe.h>\n"),
                               ["pip", "--requirement", "example==1.0 --hash=sha256:00"], MIRROR, SUITE)
        self.assertEqual(line, "error: example==1.0 builds from source and needs the header libpq-fe.h, which "
                               "Debian's libpq-dev ships: add 'build: libpq-dev' and 'image: libpq5' (the library it "
                               "loads at run time) to requirements_debian.txt, then run ./bazelw run "
                               "//:requirements.update")

    def test_a_missing_program_names_its_package(self) -> None:
        line = build_hint.hint("Error: pg_config executable not found.\n", ["pip"], MIRROR, SUITE)
        self.assertIn("needs the program pg_config, which Debian's libpq-dev ships", line)


    def test_pkg_config_modules_tried_in_turn_name_the_package_with_one(self) -> None:
        line = build_hint.hint(pkg_config_tries("mysqlclient", "mariadb", "libmariadb", "perconaserverclient"),
                               ["pip", "--requirement", "mysqlclient==2.2.7 --hash=sha256:00"], MIRROR, SUITE)
        self.assertIn("needs the pkg-config module mysqlclient, mariadb, libmariadb or perconaserverclient, "
                      "which Debian's libmariadb-dev ships: add 'build: libmariadb-dev' and 'image: libmariadb3'", line)


class MainTest(unittest.TestCase):
    """The wrapper passes output and status through and adds the line on failure."""

    def run_main(self, script: str) -> subprocess.CompletedProcess:
        env = dict(os.environ, DEBIAN_SUITE=SUITE)
        return subprocess.run([sys.executable, build_hint.__file__, "sh", "-c", script], env=env,
                              capture_output=True, text=True, timeout=300, check=False)

    def test_success_is_untouched(self) -> None:
        done = self.run_main("echo out; echo err >&2")
        self.assertEqual((done.returncode, done.stdout, done.stderr), (0, "out\n", "err\n"))

    def test_failure_keeps_its_status_and_gains_the_line(self) -> None:
        done = self.run_main("echo 'fatal error: libpq-fe.h: No such file or directory' >&2; exit 3")
        self.assertEqual(done.returncode, 3)
        lines = done.stderr.splitlines()
        self.assertEqual(lines[0], "fatal error: libpq-fe.h: No such file or directory")
        self.assertTrue(lines[-1].startswith("error: a requirement builds from source and needs the header"), lines)


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1])

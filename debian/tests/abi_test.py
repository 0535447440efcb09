"""The ABI checker on the real base (passes, glibc 2.36 at most) and on a glibc 2.38 binary (fails).

Usage: abi_test.py BASE_TAR FIXTURE NEEDS_LIBPYTHON LIBPYTHON_DEB
FIXTURE is a program compiled by the build root's gcc, which binds
__isoc23_strtol@GLIBC_2.38; the Debian 12 base must reject it, naming the symbol and,
when a wheel installed it, the wheel. NEEDS_LIBPYTHON is a shared object needing
libpythonX.Y.so.1.0 (X.Y: the Python this runs on), which LIBPYTHON_DEB (a locked .deb)
ships and the base lacks.
"""

import os
import shutil
import sys
import tempfile
import unittest

import abi_check
import elf

BASE, FIXTURE, NEEDS_LIBPYTHON, LIBPYTHON_DEB = sys.argv[1:5]
del sys.argv[1:5]


class AbiTest(unittest.TestCase):
    def test_base_is_self_contained(self) -> None:
        image = abi_check.load([BASE])
        report = abi_check.check_image(image, [])
        self.assertEqual(report.problems, [])
        self.assertGreater(report.checked, 100)
        libc = image.file("/lib/x86_64-linux-gnu/libc.so.6")
        provided = elf.parse(image.nodes[libc].read()).version_defs
        newest = max((v for v in provided if v.startswith("GLIBC_2.")), key=abi_check.version_key)
        self.assertEqual(newest, "GLIBC_2.36")
        self.assertLessEqual(abi_check.version_key(report.newest["libc.so.6"]), abi_check.version_key("GLIBC_2.36"))
        python = elf.parse(image.nodes[image.file("/usr/bin/python3")].read())
        self.assertEqual(python.interpreter, "/lib64/ld-linux-x86-64.so.2")
        self.assertIsNotNone(image.file(python.interpreter))

    def test_glibc_238_binary_fails(self) -> None:
        with open(FIXTURE, "rb") as handle:
            fixture = elf.parse(handle.read())
        self.assertIn(("libc.so.6", "GLIBC_2.38", False), fixture.version_needs)
        tree = tempfile.mkdtemp()
        try:
            os.makedirs(os.path.join(tree, "usr/local/bin"))
            shutil.copy(FIXTURE, os.path.join(tree, "usr/local/bin/strtol"))
            report = abi_check.check_image(abi_check.load([BASE, tree]), ["/usr/local/bin"])
            self.assertEqual(report.checked, 1)
            self.assertIn("/usr/local/bin/strtol: needs GLIBC_2.38 from libc.so.6 (for __isoc23_strtol), "
                          "which provides up to GLIBC_2.36", report.problems)
            self.assertEqual(abi_check.main([BASE, tree, "--only", "/usr/local/bin"]), 1)
        finally:
            shutil.rmtree(tree)

    def test_a_wheels_file_names_the_wheel(self) -> None:
        tree = tempfile.mkdtemp()
        try:
            site = os.path.join(tree, "usr/lib/python3/dist-packages")
            os.makedirs(os.path.join(site, "fastthing"))
            os.makedirs(os.path.join(site, "fastthing-2.1.dist-info"))
            shutil.copy(FIXTURE, os.path.join(site, "fastthing/_speedups.so"))
            with open(os.path.join(site, "fastthing-2.1.dist-info/METADATA"), "w") as metadata:
                metadata.write("Metadata-Version: 2.1\nName: fastthing\nVersion: 2.1\n")
            with open(os.path.join(site, "fastthing-2.1.dist-info/RECORD"), "w") as record:
                record.write("fastthing/_speedups.so,sha256=x,1\nfastthing-2.1.dist-info/METADATA,,\n")
            report = abi_check.check_image(abi_check.load([BASE, tree]), ["/usr/lib/python3/dist-packages"])
            self.assertEqual(report.problems, [
                "/usr/lib/python3/dist-packages/fastthing/_speedups.so (fastthing 2.1): needs GLIBC_2.38 from "
                "libc.so.6 (for __isoc23_strtol), which provides up to GLIBC_2.36; the wheel needs a newer system "
                "than the image: pin another version of fastthing in requirements.txt"])
        finally:
            shutil.rmtree(tree)

    def test_a_missing_library_names_the_package_that_ships_it(self) -> None:
        tree = tempfile.mkdtemp()
        try:
            os.makedirs(os.path.join(tree, "opt"))
            shutil.copy(NEEDS_LIBPYTHON, os.path.join(tree, "opt/ext.so"))
            report = abi_check.check_image(abi_check.load([BASE, tree]), ["/opt"], [LIBPYTHON_DEB])
            python = "python%d.%d" % sys.version_info[:2]
            self.assertIn(
                f"/opt/ext.so: needs lib{python}.so.1.0, which is not in the image; Debian's lib{python} ships "
                f"it: add 'image: lib{python}' to requirements_debian.txt, then run ./bazelw run //:requirements.update",
                report.problems)
        finally:
            shutil.rmtree(tree)

    def test_missing_library_and_interpreter_fail(self) -> None:
        tree = tempfile.mkdtemp()
        try:
            os.makedirs(os.path.join(tree, "opt"))
            shutil.copy(FIXTURE, os.path.join(tree, "opt/strtol"))
            report = abi_check.check_image(abi_check.load([tree]), [])
            self.assertIn("/opt/strtol: needs libc.so.6, which is not in the image", report.problems)
            self.assertIn("/opt/strtol: interpreter /lib64/ld-linux-x86-64.so.2 is not in the image", report.problems)
        finally:
            shutil.rmtree(tree)


if __name__ == "__main__":
    unittest.main()

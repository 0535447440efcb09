"""The ABI checker on the real base (passes: nothing needs a newer glibc than the lock's) and
on a binary built against a newer glibc (fails).

Usage: abi_test.py BASE_TAR FIXTURE NEEDS_LIBPYTHON LIBPYTHON_DEB LOCK_JSON
FIXTURE is a program compiled by the build root's gcc, which binds cfgetospeed to a
version newer than the base's glibc; the base must reject it, naming the symbol and,
when a wheel installed it, the wheel. NEEDS_LIBPYTHON is a shared object needing
libpythonX.Y.so.1.0 (X.Y: the Python this runs on), which LIBPYTHON_DEB (a locked .deb)
ships and the base lacks.
"""

import json
import os
import shutil
import sys
import tempfile
import unittest

import abi_check
import elf

BASE, FIXTURE, NEEDS_LIBPYTHON, LIBPYTHON_DEB, LOCK_JSON = sys.argv[1:6]
del sys.argv[1:6]
with open(LOCK_JSON) as lock_file:
    LIBC = next(p["version"] for p in json.load(lock_file)["packages"] if p["name"] == "libc6")
# The newest symbol version of the base's glibc: GLIBC_ and its upstream major.minor.
BASE_GLIBC = "GLIBC_" + ".".join(LIBC.split(":")[-1].split("-")[0].split(".")[:2])


def newest_glibc_need(path: str) -> str:
    """The newest GLIBC_ version the ELF file at PATH needs."""
    with open(path, "rb") as handle:
        needs = elf.parse(handle.read()).version_needs
    return max((v for lib, v, _ in needs if lib == "libc.so.6"), key=abi_check.version_key)


class AbiTest(unittest.TestCase):
    def test_base_is_self_contained(self) -> None:
        image = abi_check.load([BASE])
        report = abi_check.check_image(image, [])
        self.assertEqual(report.problems, [])
        self.assertGreater(report.checked, 50)
        libc = image.file("/lib/x86_64-linux-gnu/libc.so.6")
        provided = elf.parse(image.nodes[libc].read()).version_defs
        newest = max((v for v in provided if v.startswith("GLIBC_2.")), key=abi_check.version_key)
        self.assertEqual(newest, BASE_GLIBC)
        self.assertLessEqual(abi_check.version_key(report.newest["libc.so.6"]), abi_check.version_key(BASE_GLIBC))
        python = elf.parse(image.nodes[image.file("/usr/bin/python3")].read())
        self.assertEqual(python.interpreter, "/lib64/ld-linux-x86-64.so.2")
        self.assertIsNotNone(image.file(python.interpreter))

    def test_newer_glibc_binary_fails(self) -> None:
        needed = newest_glibc_need(FIXTURE)
        self.assertGreater(abi_check.version_key(needed), abi_check.version_key(BASE_GLIBC), "the fixture is not newer")
        tree = tempfile.mkdtemp()
        try:
            os.makedirs(os.path.join(tree, "usr/local/bin"))
            shutil.copy(FIXTURE, os.path.join(tree, "usr/local/bin/newer"))
            report = abi_check.check_image(abi_check.load([BASE, tree]), ["/usr/local/bin"])
            self.assertEqual(report.checked, 1)
            self.assertIn(f"/usr/local/bin/newer: needs {needed} from libc.so.6 (for cfgetospeed), "
                          f"which provides up to {BASE_GLIBC}", report.problems)
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
                f"/usr/lib/python3/dist-packages/fastthing/_speedups.so (fastthing 2.1): needs {newest_glibc_need(FIXTURE)} "
                f"from libc.so.6 (for cfgetospeed), which provides up to {BASE_GLIBC}; the wheel needs a newer system "
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

    def test_another_architectures_object_fails(self) -> None:
        report = abi_check.check_image(abi_check.load([BASE]), ["/usr/bin"], arch=abi_check.ARCHITECTURES["arm64"])
        self.assertTrue(report.problems)
        self.assertTrue(all(p.endswith("not an aarch64 ELF object (machine 62)") for p in report.problems), report.problems)


if __name__ == "__main__":
    unittest.main()

"""The base and config layers as files: what is in them, who owns it, and how it is written.

Usage: base_layer_test.py BASE_TAR CONFIG_TAR CA_CERTIFICATES_DEB
"""

import glob
import re
import ssl
import sys
import tarfile
import unittest
from typing import Dict, List, Set

from debfile import read_deb

BASE, CONFIG, CA_DEB = sys.argv[1:4]
del sys.argv[1:4]
PEM = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.S)

# The image's Python, MAJOR.MINOR: the one this test runs on.
PYTHON = "%d.%d" % sys.version_info[:2]


def members(path: str) -> List[tarfile.TarInfo]:
    """Every member of a tar, in archive order."""
    with tarfile.open(path) as archive:
        return archive.getmembers()


def read(path: str, name: str) -> bytes:
    """One file of a tar."""
    with tarfile.open(path) as archive:
        return archive.extractfile(name).read()


def ders(pem: bytes) -> Set[bytes]:
    """The DER encodings of every certificate in PEM text."""
    return {ssl.PEM_cert_to_DER_cert(block.decode()) for block in PEM.findall(pem)}


class LayerTest(unittest.TestCase):
    base: Dict[str, tarfile.TarInfo]

    @classmethod
    def setUpClass(cls) -> None:
        cls.base = {m.name: m for m in members(BASE)}

    def test_required_paths(self) -> None:
        for path, kind in [
            (f"usr/bin/python{PYTHON}", "file"), ("usr/bin/python3", "sym"), ("usr/lib/x86_64-linux-gnu/libc.so.6", "file"),
            ("usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", "file"), ("usr/lib64/ld-linux-x86-64.so.2", "sym"),
            ("lib64", "sym"), ("lib", "sym"), ("bin", "sym"), ("sbin", "sym"),
            ("usr/lib/locale/C.utf8/LC_CTYPE", "file"), ("etc/ssl/certs/ca-certificates.crt", "file"),
            (f"usr/lib/python{PYTHON}/ssl.py", "file"), ("usr/lib/python3/dist-packages", "dir"),
            ("usr/share/zoneinfo/Etc/UTC", "file"), ("usr/share/zoneinfo/Europe/Berlin", "file"), ("etc/services", "file"), ("tmp", "dir"),
            ("usr/share/doc/libc6/copyright", "file"), ("var/lib/dpkg/status.d/libc6", "file"),
        ]:
            with self.subTest(path=path):
                self.assertIn(path, self.base)
                self.assertTrue(getattr(self.base[path], "is" + kind)(), "%s is not a %s" % (path, kind))
        self.assertEqual(self.base["usr/bin/python3"].linkname, f"python{PYTHON}")
        self.assertEqual(self.base["lib64"].linkname, "usr/lib64")

    def test_forbidden_paths(self) -> None:
        forbidden = re.compile(
            r"^(usr/)?(s?bin)/(sh|bash|dash|ash|busybox|dpkg.*|apt.*|pip.*|gcc.*|cc|ld|ldconfig|getconf|perl.*|pytest)$"
            r"|^usr/share/(man|info|lintian|locale)(/|$)|^usr/lib/python3\.11/(ensurepip|lib2to3|idlelib|tkinter)(/|$)"
            r"|^etc/apt(/|$)|^var/lib/dpkg/(status|info)$"
            r"|^usr/lib/x86_64-linux-gnu/gconv(/|$)|^usr/share/zoneinfo/right(/|$)")
        self.assertEqual([n for n in self.base if forbidden.search(n)], [])
        docs = [n for n in self.base if n.startswith("usr/share/doc/") and not re.match(r"^usr/share/doc/[^/]+(/copyright)?$", n)]
        self.assertEqual(docs, [])
        locales = {n.split("/")[3] for n in self.base if n.startswith("usr/lib/locale/") and n.count("/") >= 3}
        self.assertEqual(locales, {"C.utf8"})

    def test_every_package_has_copyright_and_status(self) -> None:
        packages = [n.rsplit("/", 1)[1] for n in self.base if n.startswith("var/lib/dpkg/status.d/") and self.base[n].isfile()]
        self.assertGreater(len(packages), 20)
        for package in packages:
            with self.subTest(package=package):
                doc = "usr/share/doc/" + package
                self.assertTrue(doc + "/copyright" in self.base or self.base[doc].issym())
                status = read(BASE, "var/lib/dpkg/status.d/" + package).decode()
                self.assertTrue(status.startswith("Package: %s\nStatus: install ok installed\n" % package))
                self.assertRegex(status, r"\nVersion: \S+\n")

    def test_owner_mtime_mode(self) -> None:
        for layer in (BASE, CONFIG):
            for member in members(layer):
                with self.subTest(path=member.name):
                    self.assertEqual(member.mtime, 0)
                    self.assertFalse(member.mode & 0o6000, "setuid/setgid bit")
                    if member.isdir():
                        expected = {0o1777} if member.name in ("tmp", "var/tmp", "var/lock") else {0o755}
                        self.assertIn(member.mode, expected)
                    elif member.isfile():
                        self.assertIn(member.mode, (0o644, 0o755))
                    else:
                        self.assertTrue(member.issym(), "only dirs, files and symlinks")
                    if member.name not in ("home/workload", "home/nonroot"):
                        self.assertEqual((member.uid, member.gid), (0, 0))
        self.assertEqual(self.base["tmp"].mode, 0o1777)

    def test_sorted_unique_no_dir_below_link(self) -> None:
        for layer in (BASE, CONFIG):
            names = [m.name for m in members(layer)]
            self.assertEqual(len(names), len(set(names)), "duplicate paths in %s" % layer)
            self.assertEqual(names, sorted(names))  # by name: every parent before its children
        links = {n for n, m in self.base.items() if m.issym()}
        below = [n for n in self.base if any(n.startswith(link + "/") for link in links if n != link)]
        self.assertEqual(below, [])
        for top in ("bin", "sbin", "lib", "lib64"):
            self.assertFalse([n for n in self.base if n.startswith(top + "/")])

    def test_config_layer(self) -> None:
        config = {m.name: m for m in members(CONFIG)}
        passwd = read(CONFIG, "etc/passwd").decode().splitlines()
        self.assertEqual([line.split(":")[:4] for line in passwd],
                         [["root", "x", "0", "0"], ["nonroot", "x", "65532", "65532"], ["workload", "x", "1000", "1000"]])
        self.assertIn("workload:x:1000:1000:workload:/home/workload:", read(CONFIG, "etc/passwd").decode())
        self.assertEqual(read(CONFIG, "etc/group").decode(), "root:x:0:\nnonroot:x:65532:\nworkload:x:1000:\n")
        self.assertIn(b"hosts:", read(CONFIG, "etc/nsswitch.conf"))
        home = config["home/workload"]
        self.assertTrue(home.isdir())
        self.assertEqual((home.uid, home.gid, home.mode), (1000, 1000, 0o755))

    def test_ca_bundle_is_exactly_the_packages_certificates(self) -> None:
        deb = read_deb(CA_DEB)
        shipped = set()
        for info, content in deb.members():
            if info.name.startswith("./usr/share/ca-certificates/mozilla/") and info.name.endswith(".crt"):
                shipped |= ders(content)
        bundle = read(BASE, "etc/ssl/certs/ca-certificates.crt")
        self.assertGreater(len(shipped), 100)
        self.assertEqual(ders(bundle), shipped)
        self.assertEqual(len(PEM.findall(bundle)), len(shipped))
        local: Set[bytes] = set()
        for path in glob.glob("/usr/local/share/ca-certificates/**/*.crt", recursive=True):
            with open(path, "rb") as handle:
                local |= ders(handle.read())
        with open("/etc/ssl/certs/ca-certificates.crt", "rb") as handle:
            build_root = ders(handle.read())
        self.assertEqual(local & ders(bundle), set(), "a local CA reached the image")
        self.assertEqual((build_root - shipped) & ders(bundle), set())
        print("CA bundle: %d certificates; %d local CAs and %d extra build-root CAs absent" % (len(shipped), len(local), len(build_root - shipped)), file=sys.stderr)


if __name__ == "__main__":
    unittest.main()

"""The base's own python3, run from the unpacked layers with a read-only root and no network.

Usage: base_runtime_test.py BASE_TAR CONFIG_TAR LOCK_JSON
Runs under bubblewrap (as root: the build root is a chroot, where the kernel refuses
user namespaces, so bwrap cannot map uids; the probe itself drops to the workload
user 1000:1000 before anything else): the standard library's C modules load, the CA
bundle is the one ssl uses, ctypes finds libraries by soname, the versions are the
lock's, and every module of the standard library imports but the few ABSENT names.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

from rootfs import unpack

LAYERS = sys.argv[1:3]
with open(sys.argv[3]) as lock_file:
    LOCK = json.load(lock_file)
del sys.argv[1:4]
# Standard modules the image does not have, and why (the rest must import).
ABSENT = {
    "msvcrt": "Windows", "nt": "Windows", "winreg": "Windows", "winsound": "Windows", "_winapi": "Windows",
    "_wmi": "Windows", "_overlapped": "Windows", "_scproxy": "macOS", "_ios_support": "iOS",
    "_tkinter": "Tk, a separate Debian package (python3-tk): no display in a container",
    "tkinter": "Tk, a separate Debian package (python3-tk): no display in a container",
    "turtledemo": "needs Tk", "idlelib": "the IDLE editor, a separate Debian package",
    "ensurepip": "pip's bootstrap, a separate Debian package (python3-venv); nothing installs at run time",
    "_gdbm": "GNU dbm, a separate Debian package (python3-gdbm); dbm.sqlite3 and dbm.ndbm are there",
    "turtle": "needs Tk (debian/image_filter.json)",
    "curses": "interactive terminal programs (debian/image_filter.json)",
    "_curses": "interactive terminal programs (debian/image_filter.json)",
    "_curses_panel": "interactive terminal programs (debian/image_filter.json)",
    "readline": "the interactive prompt (debian/image_filter.json)",
    "pydoc_data": "help()'s topics, for the interactive prompt (debian/image_filter.json)",
}
IMPORT_ALL = r"""
import importlib, json, sys
failed = {}
for name in sorted(sys.stdlib_module_names):
    try:
        importlib.import_module(name)
    except Exception as error:
        failed[name] = "%s: %s" % (type(error).__name__, error)
print(json.dumps({"modules": len(sys.stdlib_module_names), "failed": failed}))
"""


def upstream(name: str) -> str:
    """The upstream part of a locked package's version (no epoch, no Debian revision)."""
    version = next(p["version"] for p in LOCK["packages"] if p["name"] == name)
    return version.split(":")[-1].rsplit("-", 1)[0]


def locked_name(prefix: str) -> str:
    """The locked package whose name starts with PREFIX (libssl3 or libssl3t64...)."""
    return next(p["name"] for p in LOCK["packages"] if p["name"].startswith(prefix))
ENV = {"LANG": "C.UTF-8", "PATH": "/usr/local/bin:/usr/bin:/bin", "SSL_CERT_FILE": "/etc/ssl/certs/ca-certificates.crt"}
PROBE = r"""
import os
os.setgroups([])
os.setgid(1000)
os.setuid(1000)
import bz2, ctypes, ctypes.util, decimal, hashlib, json, locale, lzma, pwd, socket, sqlite3, ssl, sys, uuid, zlib
context = ssl.create_default_context(cafile=os.environ["SSL_CERT_FILE"])
default = ssl.create_default_context()
connection = sqlite3.connect(":memory:")
print(json.dumps({
    "version": list(sys.version_info[:3]),
    "os_release": dict(line.split("=", 1) for line in open("/etc/os-release").read().split("\n") if "=" in line)["VERSION_ID"],
    "decimal": decimal.Decimal.__module__,
    "ca_certs": len(context.get_ca_certs()),
    "default_ca_certs": len(default.get_ca_certs()),
    "openssl": ssl.OPENSSL_VERSION,
    "sha256": hashlib.sha256(b"abc").hexdigest(),
    "sqlite": connection.execute("select sqlite_version()").fetchone()[0],
    "roundtrip": [zlib.decompress(zlib.compress(b"x")) == b"x", lzma.decompress(lzma.compress(b"x")) == b"x", bz2.decompress(bz2.compress(b"x")) == b"x"],
    "uuid": uuid.uuid4().version,
    "libssl": ctypes.CDLL("libssl.so.3").OpenSSL_version_num() > 0,
    "find_library": ctypes.util.find_library("ssl"),
    "user": [os.getuid(), os.getgid(), pwd.getpwuid(os.getuid()).pw_name, os.path.expanduser("~")],
    "locale": [locale.setlocale(locale.LC_ALL, ""), sys.getfilesystemencoding()],
    "path": sys.path,
    "shell": [p for p in ("/bin/sh", "/bin/bash", "/usr/bin/dash", "/usr/bin/apt", "/usr/bin/dpkg") if os.path.lexists(p)],
    "root_writable": os.access("/", os.W_OK) or os.access("/tmp", os.W_OK),
    "interfaces": sorted(name for _, name in socket.if_nameindex()),
}))
"""


class RuntimeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.tmp = tempfile.mkdtemp(prefix="base-")
        cls.root = os.path.join(cls.tmp, "root")
        unpack(LAYERS, cls.root)

    @classmethod
    def tearDownClass(cls) -> None:
        shutil.rmtree(cls.tmp)

    def run_probe(self, probe: str = PROBE) -> dict:
        command = ["bwrap", "--ro-bind", self.root, "/", "--proc", "/proc", "--dev", "/dev", "--unshare-net",
                   "--unshare-pid", "--die-with-parent",
                   "--chdir", "/home/workload", "--clearenv"]
        for key, value in sorted(ENV.items()):
            command += ["--setenv", key, value]
        result = subprocess.run(command + ["/usr/bin/python3", "-c", probe], capture_output=True, text=True, timeout=120, check=False)
        self.assertEqual(result.returncode, 0, result.stderr)
        return json.loads(result.stdout.splitlines()[-1])

    def test_every_standard_module_imports(self) -> None:
        probe = self.run_probe(IMPORT_ALL)
        unexpected = {name: error for name, error in probe["failed"].items() if name not in ABSENT}
        self.assertEqual(unexpected, {})
        print("%d of %d standard modules import; absent: %s" % (
            probe["modules"] - len(probe["failed"]), probe["modules"], ", ".join(sorted(probe["failed"]))), file=sys.stderr)
        self.assertGreater(probe["modules"] - len(probe["failed"]), 250)

    def test_interpreter_in_read_only_root(self) -> None:
        probe = self.run_probe()
        print(json.dumps(probe, indent=1), file=sys.stderr)
        self.assertEqual(probe["version"][:2], list(sys.version_info[:2]))  # the toolchain's, the lock's
        self.assertEqual(".".join(map(str, probe["version"][:2])), LOCK["python"])
        self.assertEqual(probe["os_release"], '"%s"' % LOCK["release"])  # /etc/os-release: VERSION_ID="13"
        self.assertEqual(probe["decimal"], "decimal")
        import_c = subprocess.run(["bwrap", "--ro-bind", self.root, "/", "--proc", "/proc", "--dev", "/dev", "--unshare-net",
                                   "/usr/bin/python3", "-c", "import _decimal, decimal; print(decimal.Decimal is _decimal.Decimal)"],
                                  capture_output=True, text=True, timeout=60, check=False)
        self.assertEqual(import_c.stdout.strip(), "True", import_c.stderr)
        bundle = os.path.join(self.root, "etc/ssl/certs/ca-certificates.crt")
        with open(bundle) as handle:
            self.assertEqual(probe["ca_certs"], handle.read().count("BEGIN CERTIFICATE"))
        self.assertEqual(probe["default_ca_certs"], probe["ca_certs"])
        self.assertTrue(probe["openssl"].startswith("OpenSSL %s " % upstream(locked_name("libssl3"))), probe["openssl"])
        self.assertEqual(probe["sha256"], "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        self.assertEqual(probe["sqlite"], upstream("libsqlite3-0"))
        self.assertEqual(probe["roundtrip"], [True, True, True])
        self.assertEqual(probe["uuid"], 4)
        self.assertTrue(probe["libssl"])
        # No ldconfig in the image: find_library cannot search, code loads by soname.
        self.assertIsNone(probe["find_library"])
        self.assertEqual(probe["user"], [1000, 1000, "workload", "/home/workload"])
        self.assertEqual(probe["locale"], ["C.UTF-8", "utf-8"])
        self.assertIn("/usr/lib/python3/dist-packages", probe["path"])
        self.assertEqual(probe["shell"], [])
        self.assertFalse(probe["root_writable"])
        self.assertEqual(probe["interfaces"], ["lo"])

    def test_bundle_verifies_a_root_with_openssl(self) -> None:
        root_cert = os.path.join(self.root, "usr/share/ca-certificates/mozilla/ISRG_Root_X1.crt")
        bundle = os.path.join(self.root, "etc/ssl/certs/ca-certificates.crt")
        result = subprocess.run(["openssl", "verify", "-CAfile", bundle, "-no-CApath", root_cert], capture_output=True, text=True, check=False)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertTrue(result.stdout.strip().endswith(": OK"))


if __name__ == "__main__":
    unittest.main()

"""The resolver, run offline on fixture Packages indexes: same input, same bytes; clear errors."""

import copy
import os
import unittest
from pathlib import Path

import resolve

TESTDATA = Path(__file__).resolve().parent / "testdata"
CONFIG = {
    "distribution": "bookworm",
    "release": "12",
    "architectures": ["amd64"],
    "python": "3.11",
    "archives": {"main": ["bookworm"], "security": ["bookworm-security"]},
    "sets": {"image": ["app"], "sysroot": ["libc6"]},
    "skip": {"debconf": "not in the image"},
}


def archive(arch: str = "amd64", suites: tuple = ("main", "security")) -> resolve.Archive:
    """Reads the fixture indexes (amd64's, renamed for arch) the way lock() reads downloaded ones."""
    result = resolve.Archive()
    for name in suites:
        text = (TESTDATA / ("Packages." + name)).read_text().replace("amd64", arch)
        result.add(name, resolve.parse_index(text))
    return result


def archives() -> dict:
    """The fixture archive of each architecture of CONFIG."""
    return {"amd64": archive()}


class LockTest(unittest.TestCase):
    def test_same_input_gives_same_bytes(self) -> None:
        first = resolve.render(resolve.lock_document(copy.deepcopy(CONFIG), archives()))
        second = resolve.render(resolve.lock_document(copy.deepcopy(CONFIG), archives()))
        self.assertEqual(first.encode(), second.encode())

    def test_closure_newest_version_and_sets(self) -> None:
        entries = {e["name"]: e for e in resolve.lock_document(CONFIG, archives())["packages"]["amd64"]}
        self.assertEqual(sorted(entries), ["app", "libc6", "libfoo1", "tiny-mta"])
        self.assertEqual(entries["libc6"]["version"], "2.36-9+deb12u1")
        self.assertEqual(entries["libc6"]["archive"], "security")
        self.assertEqual(entries["libc6"]["sets"], ["image", "sysroot"])
        self.assertEqual(entries["app"]["sets"], ["image"])

    def test_each_architecture_from_its_own_indexes(self) -> None:
        config = dict(CONFIG, architectures=["amd64", "arm64"])
        # arm64's security suite has no libc6 update yet: its lock keeps the main suite's.
        document = resolve.lock_document(config, {"amd64": archive(), "arm64": archive("arm64", ("main",))})
        amd64, arm64 = ({e["name"]: e for e in document["packages"][a]} for a in ("amd64", "arm64"))
        self.assertEqual(sorted(amd64), sorted(arm64))
        self.assertEqual((amd64["libc6"]["version"], arm64["libc6"]["version"]), ("2.36-9+deb12u1", "2.36-9"))
        self.assertEqual((arm64["libc6"]["architecture"], arm64["libc6"]["path"]),
                         ("arm64", "pool/main/g/glibc/libc6_2.36-9_arm64.deb"))
        self.assertEqual(arm64["tiny-mta"]["architecture"], "all")
        self.assertEqual(resolve.count(document), "4 amd64, 4 arm64")

    def test_unknown_package_is_named(self) -> None:
        config = copy.deepcopy(CONFIG)
        config["sets"]["image"].append("no-such-package")
        with self.assertRaisesRegex(resolve.ResolveError, r"unknown package 'no-such-package' \(set image"):
            resolve.lock_document(config, archives())

    def test_unsatisfiable_dependency_is_named(self) -> None:
        config = copy.deepcopy(CONFIG)
        config["skip"] = {}
        with self.assertRaisesRegex(resolve.ResolveError, "app depends on debconf, which no suite provides"):
            resolve.lock_document(config, archives())


BASE_CONFIG = dict(CONFIG, sets={"image": ["libc6"]})


def user_lock(text: str) -> dict:
    """The user lock of TEXT (a requirements_debian.txt) against a base of libc6 alone."""
    base = resolve.lock_document(copy.deepcopy(BASE_CONFIG), archives())
    return resolve.user_lock_document(copy.deepcopy(BASE_CONFIG), archives(), base, text.encode(), b"base")


class UserLockTest(unittest.TestCase):
    """requirements_debian.txt resolved against a base lock that stays as it is."""

    def test_only_what_the_base_lacks_with_the_users_sets(self) -> None:
        entries = {e["name"]: e for e in user_lock("build: libfoo-dev  # headers\nimage: libfoo1\n")["packages"]["amd64"]}
        self.assertEqual(sorted(entries), ["libc6", "libfoo-dev", "libfoo1"])
        self.assertEqual(entries["libfoo-dev"]["sets"], ["sysroot"])
        self.assertEqual(entries["libfoo1"]["sets"], ["image", "sysroot"])
        # libc6 is the base's, at the base's version, now needed by the sysroot too.
        self.assertEqual((entries["libc6"]["version"], entries["libc6"]["sets"]), ("2.36-9+deb12u1", ["image", "sysroot"]))

    def test_nothing_asked_nothing_locked(self) -> None:
        self.assertEqual(user_lock("# nothing\n")["packages"], {"amd64": []})

    def test_a_dependency_newer_than_the_base_is_named(self) -> None:
        with self.assertRaisesRegex(resolve.ResolveError, r"libbar2 depends on libc6 \(>= 2.37\), which the lock "
                                    r"and the suites have only libc6 2.36-9\+deb12u1"):
            user_lock("image: libbar2\n")

    def test_a_bad_line_is_named(self) -> None:
        with self.assertRaisesRegex(resolve.ResolveError, r"^requirements_debian.txt:2: expected 'image: PACKAGE'"):
            user_lock("image: libfoo1\nlibfoo-dev\n")

    def test_an_unknown_package_is_named(self) -> None:
        with self.assertRaisesRegex(resolve.ResolveError, "unknown package 'libnope'"):
            user_lock("image: libnope\n")

    def test_the_committed_user_lock_is_current(self) -> None:
        workspace = Path(os.environ["TEST_SRCDIR"], os.environ["TEST_WORKSPACE"])
        self.assertTrue(resolve.user_lock_is_current(workspace),
                        "%s is stale: run ./bazelw run //:requirements.update" % resolve.USER_LOCK)


if __name__ == "__main__":
    unittest.main()

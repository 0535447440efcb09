"""The requirements locks match the files they are made from (offline).

Also proves the checker fails: it runs on temporary copies of the files with one change
each, made the way a person editing them would.
"""

import os
import re
import shutil
import tempfile
import unittest
from pathlib import Path
from typing import Callable, List, Tuple

import lockcheck

IMAGE, TEST = lockcheck.IMAGE, lockcheck.TEST
USER_REQUIREMENTS = IMAGE.inputs[0]


def workspace_dir() -> Path:
    """The folder holding the real requirements files (runfiles under Bazel)."""
    if "TEST_SRCDIR" in os.environ:
        return Path(os.environ["TEST_SRCDIR"]) / os.environ["TEST_WORKSPACE"]
    return Path(__file__).resolve().parents[2]


class RealLockTest(unittest.TestCase):
    """The committed locks are up to date."""

    def test_locks_match_their_sources(self) -> None:
        problems = lockcheck.check_workspace(workspace_dir())
        self.assertEqual(problems, [], "regenerate with: " + lockcheck.UPDATE_COMMAND)


class ModifiedCopyTest(unittest.TestCase):
    """The checker reports each kind of drift in a modified copy of the files."""

    def setUp(self) -> None:
        scratch = tempfile.mkdtemp(prefix="lock_test.")
        self.addCleanup(shutil.rmtree, scratch)
        self.copy = Path(scratch)
        for spec in lockcheck.LOCKS:
            for name in spec.sources + (spec.lock,):
                (self.copy / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(str(workspace_dir() / name), str(self.copy / name))

    def edit(self, name: str, change: Callable[[str], str]) -> None:
        """Rewrite file ``name`` of the copy through ``change``."""
        path = self.copy / name
        before = path.read_text(encoding="utf-8")
        after = change(before)
        self.assertNotEqual(before, after, "the edit changed nothing")
        path.write_text(after, encoding="utf-8")

    def problems(self) -> List[str]:
        """What the checker says about the copy."""
        return lockcheck.check_workspace(self.copy)

    def assert_reports(self, *fragments: str) -> None:
        """The checker fails, with each fragment in some problem."""
        problems = self.problems()
        self.assertTrue(problems, "the checker accepted a modified copy")
        for fragment in fragments:
            self.assertTrue(any(fragment in p for p in problems), f"{fragment!r} not in {problems!r}")

    def test_unmodified_copy_passes(self) -> None:
        self.assertEqual(self.problems(), [])

    def bump_first_pin(self, name: str) -> Tuple[str, str, str]:
        """Change the first ``pkg==version`` in file ``name``; return pkg, old and new version."""
        text = (self.copy / name).read_text(encoding="utf-8")
        pin = re.search(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", text, re.MULTILINE)
        self.assertIsNotNone(pin, f"no pinned requirement in {name}")
        package, old = pin.group(1), pin.group(2)
        new = old + "9"
        self.edit(name, lambda t: t[: pin.start(2)] + new + t[pin.end(2) :])
        return lockcheck.canonical_name(package), old, new

    def test_added_requirement(self) -> None:
        self.edit(USER_REQUIREMENTS, lambda t: t + "not-in-the-lock==1.0\n")
        self.assert_reports(f"{IMAGE.lock}: ", "changed since the lock", "not-in-the-lock is not locked")

    def test_added_test_requirement(self) -> None:
        self.edit(TEST.inputs[0], lambda t: t + "not-in-the-test-lock\n")
        self.assert_reports(f"{TEST.lock}: ", "not-in-the-test-lock is not locked")

    def test_changed_server_version(self) -> None:
        package, old, new = self.bump_first_pin(IMAGE.inputs[1])
        self.assert_reports("changed since the lock", f"{package} is locked at {old}, the inputs ask for {new}")

    def test_a_new_image_lock_makes_the_test_lock_stale(self) -> None:
        self.edit(IMAGE.lock, lambda t: t + "# regenerated\n")
        problems = self.problems()
        self.assertEqual(len(problems), 1, problems)
        self.assert_reports(f"{TEST.lock}: ", "changed since the lock")

    def test_test_lock_repeating_an_image_package(self) -> None:
        image_entry = re.search(r"^[A-Za-z0-9].*?(?=^\S)", (self.copy / IMAGE.lock).read_text(), re.M | re.S)
        self.assertIsNotNone(image_entry)
        self.edit(TEST.lock, lambda t: t + image_entry.group(0))
        self.assert_reports("is already in " + IMAGE.lock)

    def test_comment_only_change_is_still_caught_by_the_hash(self) -> None:
        self.edit(USER_REQUIREMENTS, lambda t: t + "# a note\n")
        # The image lock is stale, and with it the test lock made against it is not.
        self.assertEqual(len(self.problems()), 1, self.problems())
        self.assert_reports("changed since the lock")

    def test_hand_edited_lock_version(self) -> None:
        text = (self.copy / IMAGE.inputs[1]).read_text(encoding="utf-8")
        pinned = re.search(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==", text, re.MULTILINE)
        self.assertIsNotNone(pinned, f"no pinned requirement in {IMAGE.inputs[1]}")
        name = lockcheck.canonical_name(pinned.group(1))
        entry = re.compile(r"^(%s==)(\S+)" % re.escape(name), re.MULTILINE | re.IGNORECASE)
        self.edit(IMAGE.lock, lambda t: entry.sub(lambda m: m.group(1) + m.group(2) + "9", t, count=1))
        self.assert_reports(f"{name} is locked at ")

    def test_entry_without_hash(self) -> None:
        self.edit(IMAGE.lock, lambda t: t + "not-hashed==1.0\n")
        self.assert_reports("not-hashed has no --hash")

    def test_unpinned_entry(self) -> None:
        self.edit(TEST.lock, lambda t: t + "ranged>=1.0 --hash=sha256:" + "0" * 64 + "\n")
        self.assert_reports("'ranged>=1.0' is not pinned")

    def test_missing_header(self) -> None:
        self.edit(IMAGE.lock, lambda t: t.split("\n", 1)[1])
        self.assert_reports("first line does not record")

    def test_missing_lock(self) -> None:
        (self.copy / TEST.lock).unlink()
        self.assert_reports("missing " + TEST.lock)

    def test_include_line_is_refused(self) -> None:
        self.edit(USER_REQUIREMENTS, lambda t: t + "-r more.txt\n")
        self.assert_reports("unsupported line '-r more.txt'")


class ParseTest(unittest.TestCase):
    """The small parsers behind the checker."""

    def test_requirement_forms(self) -> None:
        text = "A_b.C[extra] == 1.0 ; python_version>'3' # note\nplain\nrange>=2,<3\n"
        found, problems = lockcheck.parse_requirements(text, "r.txt")
        self.assertEqual(found, {"a-b-c": "1.0", "plain": None, "range": None})
        self.assertEqual(problems, [])

    def test_continuations_join(self) -> None:
        self.assertEqual(
            lockcheck.logical_lines("a==1 \\\n  --hash=x\n\n# c\nb\n"), ["a==1    --hash=x", "b"]
        )

    def test_lock_entries_carry_their_hashes(self) -> None:
        locked, problems = lockcheck.parse_lock("A==1 \\\n    --hash=sha256:" + "b" * 64 + "\n", "l.txt")
        self.assertEqual((locked, problems), ({"a": ("1", ["b" * 64])}, []))


if __name__ == "__main__":
    unittest.main()

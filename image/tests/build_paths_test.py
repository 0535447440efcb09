"""No layer of //:image holds a path of the machine that built it.

Every byte of every layer (names, link targets, headers, file contents) is searched for
the Bazel output base and the checkout this test runs from, Bazel's own directory names
(execroot, bazel-out, sandbox directories), the build root's caches and pip's build
directories. Text that merely contains the word "sandbox" (the standard library's
multiprocessing mentions macOS's) is not a path, so sandbox directories are matched as
path components.
"""

from __future__ import annotations

import gzip
import os
import re
import tarfile
import unittest
from pathlib import Path

from image_layout import image_under_test

FIXED_PATTERNS = [
    b"/var/cache/bazelw",
    b"/root/.cache",
    b"bazel-out/",
    b"/execroot/",
    b"/tmp/pip-",
    b"/sandbox/",
    b"-sandbox/",
]


def output_base() -> str:
    """Returns the Bazel output base this test runs under (the part of its working
    directory before execroot/ or sandbox/)."""
    match = re.match(r"(/.+?)/(?:execroot|sandbox)/", os.getcwd() + "/")
    if not match:
        raise AssertionError(f"not run by Bazel? working directory {os.getcwd()}")
    return match.group(1)


def checkout() -> str:
    """Returns the checkout's absolute path: where the runfiles link of a source file ends."""
    relative = os.environ["SOURCE_FILE"]
    source = Path(relative).resolve()
    if not source.as_posix().endswith("/" + relative):
        raise AssertionError(f"{relative} resolves to {source}, not inside a checkout")
    return source.as_posix()[: -len(relative) - 1]


def member_at(members: list[tarfile.TarInfo], offset: int) -> str:
    """Returns the name of the member whose header or data holds byte OFFSET of the tar."""
    for info in members:
        if info.offset <= offset < info.offset_data + info.size:
            return info.name
    return "(end of archive)"


class BuildPathsTest(unittest.TestCase):
    """Searches every layer of the image for build-machine paths."""

    def test_paths_of_this_machine_are_known(self) -> None:
        for path in (output_base(), checkout()):
            self.assertTrue(Path(path).is_dir(), path)
            self.assertNotIn(path, ("/", ""))

    def test_no_build_machine_path_in_any_layer(self) -> None:
        patterns = FIXED_PATTERNS + [output_base().encode(), checkout().encode()]
        search = re.compile(b"|".join(re.escape(p) for p in patterns))
        layers = image_under_test().layer_paths()
        self.assertEqual(len(layers), 4)
        for path in layers:
            data = gzip.decompress(path.read_bytes())
            hits = list(search.finditer(data))
            with tarfile.open(path) as tar:
                members = tar.getmembers()
            self.assertGreater(len(members), 0)
            found = sorted({(member_at(members, hit.start()), hit.group().decode()) for hit in hits})
            self.assertEqual(found, [], f"layer {path.name}")


if __name__ == "__main__":
    unittest.main()

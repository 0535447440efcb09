"""Build times of //:image in a temporary clone: cold, warm no-op, and after editing app/app/main.py.

The clone gets a fresh Bazel output base (and, unless --quick, a fresh repository cache), so
nothing is shared with the checkout's own Bazel server. Copies the image of HEAD to --image-out,
and the same built without bytecode (--//python/layers:pyc=false) to --nopyc-out.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional

from common import ROOT_SH, WORKSPACE, BenchError, measure_with, root_dir

BUILD_TIMEOUT = 3600
EDIT = (b'BODY = b"Hello, world!\\n"', b'BODY = b"Hello, bench!\\n"')


class Clone:
    """A clone of the checkout's HEAD with its own output base inside the build root."""

    def __init__(self, fresh_repository_cache: bool) -> None:
        self.root = root_dir()
        self.host_tmp = Path(tempfile.mkdtemp(prefix="bench-build-", dir=self.root / "tmp"))
        self.inside = "/tmp/" + self.host_tmp.name
        self.ws = Path(tempfile.mkdtemp(prefix="bench-clone-")) / "ws"
        subprocess.run(["git", "clone", "-q", str(WORKSPACE), str(self.ws)], check=True, timeout=120)
        self.startup = ["--output_base=%s/output_base" % self.inside, "--max_idle_secs=5"]
        self.flags = ["--repository_cache=%s/repository_cache" % self.inside] if fresh_repository_cache else []

    def bazel(self, command: str, *args: str) -> float:
        """./bazelw COMMAND ARGS in the clone; returns the wall-clock seconds."""
        started = time.monotonic()
        result = subprocess.run(
            [str(self.ws / "bazelw"), *self.startup, command, *self.flags, *args],
            cwd=self.ws,
            capture_output=True,
            text=True,
            timeout=BUILD_TIMEOUT,
            check=False,
        )
        if result.returncode != 0:
            raise BenchError("bazel %s failed: %s" % (command, result.stderr.strip()[-400:]))
        return time.monotonic() - started

    def build(self, *flags: str) -> float:
        """Builds //:image; returns the wall-clock seconds."""
        return self.bazel("build", *flags, "//:image")

    def layout(self) -> Path:
        """Host path of the clone's bazel-bin/image/image (bazel-bin points inside the build root)."""
        return self.root / os.readlink(self.ws / "bazel-bin").lstrip("/") / "image" / "image"

    def layers(self) -> List[str]:
        """Layer digests of the clone's current image."""
        layout = self.layout()
        digest = json.loads((layout / "index.json").read_text())["manifests"][0]["digest"]
        manifest = json.loads((layout / "blobs/sha256" / digest.split(":")[1]).read_text())
        return [layer["digest"] for layer in manifest["layers"]]

    def close(self) -> None:
        """Stops the clone's Bazel server (waits for it to exit), then removes the clone and its output base."""
        subprocess.run([str(self.ws / "bazelw"), *self.startup, "shutdown"], cwd=self.ws, capture_output=True,
                       timeout=120, check=False)
        pid_file = self.host_tmp / "output_base/server/server.pid.txt"
        deadline = time.monotonic() + 120
        while pid_file.exists() and time.monotonic() < deadline:
            time.sleep(1)
        subprocess.run([ROOT_SH, "umount", "-l", str(self.ws)], capture_output=True, timeout=60, check=False)
        shutil.rmtree(self.ws.parent, ignore_errors=True)
        shutil.rmtree(self.root / str(self.ws.parent).lstrip("/"), ignore_errors=True)
        if not pid_file.exists():
            shutil.rmtree(self.host_tmp, ignore_errors=True)


def copy_layout(clone: Clone, out: Path) -> None:
    """Copies the clone's current bazel-bin/image/image to OUT."""
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(clone.layout(), out)


def measure(clone: Clone, image_out: Path, nopyc_out: Path) -> Dict[str, object]:
    """Cold, warm and edit build times; which layers the edit changed; the default and pyc=false layouts."""
    cold = clone.build()
    warm = clone.build()
    before = clone.layers()
    main_py = clone.ws / "app/app/main.py"
    original = main_py.read_bytes()
    if EDIT[0] not in original:
        raise BenchError("app/app/main.py no longer holds %s; update build.py's EDIT" % EDIT[0].decode())
    main_py.write_bytes(original.replace(*EDIT))
    edit = clone.build()
    after = clone.layers()
    main_py.write_bytes(original)
    clone.build()
    copy_layout(clone, image_out)
    nopyc = clone.build("--//python/layers:pyc=false")
    copy_layout(clone, nopyc_out)
    changed = [index for index, (old, new) in enumerate(zip(before, after)) if old != new]
    return {
        "cold_seconds": cold,
        "warm_noop_seconds": warm,
        "edit_seconds": edit,
        "nopyc_build_seconds": nopyc,
        "layers": len(before),
        "changed_layer_indexes": changed,
        "only_app_layer_changed": changed == [len(before) - 1],
    }


def main(argv: Optional[List[str]] = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="JSON file to write")
    parser.add_argument("--image-out", type=Path, required=True, help="where to copy the image's OCI layout")
    parser.add_argument("--nopyc-out", type=Path, required=True, help="where to copy the pyc=false OCI layout")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="keep the shared repository cache (downloads warm); the output base is fresh anyway",
    )
    args = parser.parse_args(argv)
    def build(clone: Clone) -> dict:
        return {**measure(clone, args.image_out, args.nopyc_out),
                "repository_cache": "shared" if args.quick else "fresh"}

    return measure_with("build", args.out, lambda: Clone(fresh_repository_cache=not args.quick), build)


if __name__ == "__main__":
    sys.exit(main())

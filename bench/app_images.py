"""Builds the kit's image with other apps as the user's app, in one copy of the kit, as a user would.

app_images.py APP_DIR=OUT_LAYOUT... --out JSON: for each APP_DIR (laid out as an example of
examples/: app/app, tests/, requirements.txt, requirements_debian.txt), in a clone of the checkout's
HEAD (build.py's Clone: its own output base, shared repository cache), replace the user's files
with the app's as .ci/examples.py does, run `./bazelw run //:requirements.update` (only when the
requirements files differ from the previous app's), `./bazelw build //:image`, and copy
bazel-bin/image/image to OUT_LAYOUT. The copy's Bazel server is shut down and the copy removed.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from build import Clone, copy_layout
from common import measure_with

USER_FILES = ["requirements.txt", "requirements_test.txt", "requirements_debian.txt"]


def put_app(app: Path, ws: Path) -> Dict[str, bytes]:
    """Replaces the user's files of the kit copy WS with APP's; returns the requirements files now in place."""
    shutil.rmtree(ws / "app" / "app")
    shutil.copytree(app / "app" / "app", ws / "app" / "app", ignore=shutil.ignore_patterns("__pycache__"))
    for old in (ws / "tests").iterdir():
        if old.name not in ("BUILD.bazel", "BUILD"):
            shutil.rmtree(old) if old.is_dir() else old.unlink()
    if (app / "tests").is_dir():
        for test in (app / "tests").iterdir():
            (shutil.copytree if test.is_dir() else shutil.copy)(test, ws / "tests" / test.name)
    for name in USER_FILES:
        if (app / name).is_file():
            shutil.copy(app / name, ws / name)
    return {name: (ws / name).read_bytes() for name in USER_FILES if (ws / name).is_file()}


def build_all(clone: Clone, apps: List[Tuple[Path, Path]]) -> Dict[str, object]:
    """Builds each (APP_DIR, OUT) in turn; returns per app the seconds of the lock update and of the build."""
    results: Dict[str, object] = {}
    locked_for: Optional[Dict[str, bytes]] = None
    for app, out in apps:
        requirements = put_app(app, clone.ws)
        update = None
        if requirements != locked_for:
            update = round(clone.bazel("run", "//:requirements.update"), 1)
            locked_for = requirements
        build = round(clone.build(), 1)
        copy_layout(clone, out)
        name = "/".join(app.resolve().parts[-2:])  # apps/tfb, examples/postgres
        results[name] = {"requirements_update_seconds": update, "build_seconds": build}
        print("app_images: %s built in %.0f s" % (name, build), file=sys.stderr, flush=True)
    return results


def main(argv: Optional[List[str]] = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("apps", nargs="+", metavar="APP_DIR=OUT_LAYOUT", help="an app folder and where its image goes")
    parser.add_argument("--out", required=True, help="JSON file to write")
    args = parser.parse_args(argv)
    apps: List[Tuple[Path, Path]] = []
    for item in args.apps:
        app, _, out = item.partition("=")
        if not out or not (Path(app) / "app" / "app" / "__init__.py").is_file():
            parser.error("%r: expected APP_DIR=OUT_LAYOUT, APP_DIR holding app/app/__init__.py" % item)
        apps.append((Path(app), Path(out)))
    return measure_with("app_images", args.out, lambda: Clone(fresh_repository_cache=False),
                        lambda clone: {"apps": build_all(clone, apps)})


if __name__ == "__main__":
    sys.exit(main())

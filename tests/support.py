"""Locates the app package for the tests, under Bazel and without it."""

import os
import sys
from pathlib import Path

if "TEST_SRCDIR" not in os.environ:
    # Not under Bazel: the app package lives in app/ beside this tests/ folder.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "app"))

import app  # noqa: E402  (needs the path set above)

APP_DIR = Path(app.__file__).parent.parent
"""The folder holding the ``app`` package (``app/`` in the repository)."""

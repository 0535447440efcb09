#!/usr/bin/env bash
# Runs the app's tests on Python 3.8 (pyenv's ~/.pyenv/versions/3.8*), standard library only.
# Usage: tests/run_py38.sh [unittest args...]
set -euo pipefail
python=$(ls -d ~/.pyenv/versions/3.8*/bin/python 2>/dev/null | sort -V | tail -n 1 || true)
[ -n "$python" ] || { echo "run_py38.sh: no Python 3.8 found at ~/.pyenv/versions/3.8*/bin/python" >&2; exit 1; }
cd "$(dirname "${BASH_SOURCE[0]}")/.."
exec "$python" -m unittest discover -s tests -p '*_test.py' "$@"

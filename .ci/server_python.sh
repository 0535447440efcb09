#!/usr/bin/env bash
# The kit's meinheld (runtime/meinheld) on another Python than the image's: builds the
# server into a venv of pyenv's Python VERSION (runtime/meinheld/venv.sh), then runs the
# server's own tests (runtime/meinheld/tests) on it.
# Usage: .ci/server_python.sh VERSION      e.g. .ci/server_python.sh 3.13
set -euo pipefail
case "${1:-}" in -h | --help | "") sed -n '2,5{s/^# \{0,1\}//;p}' "$0"; [ -n "${1:-}" ]; exit ;; esac
python=$(ls -d ~/.pyenv/versions/"$1".*/bin/python 2>/dev/null | sort -V | tail -n 1 || true)
[ -n "$python" ] || { echo "server_python.sh: no Python $1 at ~/.pyenv/versions/$1.*/bin/python" >&2; exit 1; }
cd "$(dirname "${BASH_SOURCE[0]}")/.."
venv=$(mktemp -d)
trap 'rm -rf "$venv"' EXIT
runtime/meinheld/venv.sh "$python" "$venv"
PYTHONPATH="$PWD:runtime:runtime/meinheld/tests" PYTHONDONTWRITEBYTECODE=1 \
  "$venv/bin/python" -m unittest discover -s runtime/meinheld/tests -p '*_test.py'

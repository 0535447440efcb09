#!/usr/bin/env bash
# The app on Python 3.8, as the seed requires: the user's tests (pytest, with
# requirements.txt and requirements_test.txt as pip resolves them for 3.8) and the
# version command the release pipeline runs. Python 3.8 is pyenv's ~/.pyenv/versions/3.8*.
# Usage: .ci/py38.sh [pytest args...]
set -euo pipefail
python=$(ls -d ~/.pyenv/versions/3.8*/bin/python 2>/dev/null | sort -V | tail -n 1 || true)
[ -n "$python" ] || { echo "py38.sh: no Python 3.8 at ~/.pyenv/versions/3.8*/bin/python" >&2; exit 1; }
cd "$(dirname "${BASH_SOURCE[0]}")/.."
venv=$(mktemp -d)
trap 'rm -rf "$venv"' EXIT
"$python" -m venv "$venv"
# (the host's pip configuration may name local indexes that do not exist: not news)
"$venv/bin/pip" install --quiet --disable-pip-version-check -r requirements.txt -r requirements_test.txt 2>&1 |
  { grep -v "^WARNING: Location 'file:" || true; }
(cd app && "$venv/bin/python" -c "import app; print('app version', app.__version__)")
PYTHONPATH=app PYTHONDONTWRITEBYTECODE=1 "$venv/bin/python" -m pytest -p no:cacheprovider -q tests "$@"

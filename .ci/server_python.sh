#!/usr/bin/env bash
# The kit's meinheld (runtime/meinheld) on another Python than the image's: builds it
# from the locked source archive with the kit's patches in a venv of pyenv's Python
# VERSION (with the greenlet and gunicorn of requirements_lock.txt, hash-checked), then
# runs the server's own tests (runtime/meinheld/tests) on it.
# Usage: .ci/server_python.sh VERSION      e.g. .ci/server_python.sh 3.13
set -euo pipefail
case "${1:-}" in -h | --help | "") sed -n '2,6{s/^# \{0,1\}//;p}' "$0"; [ -n "${1:-}" ]; exit ;; esac
python=$(ls -d ~/.pyenv/versions/"$1".*/bin/python 2>/dev/null | sort -V | tail -n 1 || true)
[ -n "$python" ] || { echo "server_python.sh: no Python $1 at ~/.pyenv/versions/$1.*/bin/python" >&2; exit 1; }
cd "$(dirname "${BASH_SOURCE[0]}")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
read -r name version sha256 < <("$python" -c 'import json, sys; s = json.load(open(sys.argv[1]))
print(s["name"], s["version"], s["sha256"])' runtime/meinheld/source.json)
"$python" -m venv "$work/venv"
pip=("$work/venv/bin/pip" --quiet --disable-pip-version-check)
# greenlet and gunicorn with their lock entries (version and hashes); the host's pip
# configuration may name local indexes that do not exist: not news.
awk '/^(greenlet|gunicorn)==/{p=1} p{print} p&&!/\\$/{p=0}' requirements_lock.txt > "$work/locked.txt"
"${pip[@]}" install --no-deps --require-hashes -r "$work/locked.txt" 2>&1 | { grep -v "^WARNING: Location 'file:" || true; }
"${pip[@]}" install setuptools wheel 2>&1 | { grep -v "^WARNING: Location 'file:" || true; }  # to build, not shipped
echo "$name==$version --hash=sha256:$sha256" > "$work/source.txt"
"${pip[@]}" download --no-deps --no-binary :all: --require-hashes -r "$work/source.txt" -d "$work" 2>&1 |
  { grep -v "^WARNING: Location 'file:" || true; }
tar -xzf "$work/$name-$version.tar.gz" -C "$work"
for patch in $("$python" -c 'import json, sys; print(" ".join(json.load(open(sys.argv[1]))["patches"]))' runtime/meinheld/source.json); do
  patch -d "$work/$name-$version" -p1 --batch --quiet < "runtime/meinheld/patches/$patch"
done
CFLAGS="-O2 -g0 -DNDEBUG" "${pip[@]}" install --no-deps --no-build-isolation "$work/$name-$version"
"$work/venv/bin/python" -c "import meinheld, sys; print('meinheld', meinheld.__version__, 'on Python', sys.version.split()[0])"
PYTHONPATH="$PWD:runtime/meinheld/tests" PYTHONDONTWRITEBYTECODE=1 \
  "$work/venv/bin/python" -m unittest discover -s runtime/meinheld/tests -p '*_test.py'

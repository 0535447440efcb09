#!/usr/bin/env bash
# The server outside Bazel: venv.sh PYTHON VENV makes a venv of PYTHON at VENV holding
# requirements_lock.txt's greenlet and gunicorn (hash-checked) and the kit's meinheld,
# built from the source archive source.json pins with the patches and sources it lists.
set -euo pipefail
case "${1:-}" in -h | --help) sed -n '2,4{s/^# \{0,1\}//;p}' "$0"; exit 0 ;; esac
[ $# = 2 ] || { echo "venv.sh: usage: venv.sh PYTHON VENV (see --help)" >&2; exit 2; }
python=$1 venv=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
lock=$here/../../requirements_lock.txt
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
field() { "$python" -c 'import json, sys; v = json.load(open(sys.argv[1]))[sys.argv[2]]
print(" ".join(v) if isinstance(v, list) else v)' "$here/source.json" "$1"; }
name=$(field name) version=$(field version)
"$python" -m venv "$venv"
# The host's pip configuration may name local indexes that do not exist: not news.
pip() { "$venv/bin/pip" --quiet --disable-pip-version-check "$@" 2>&1 | { grep -v "^WARNING: Location 'file:" || true; }; }
awk '/^(greenlet|gunicorn)==/{p=1} p{print} p&&!/\\$/{p=0}' "$lock" >"$work/locked.txt"
pip install --no-deps --require-hashes -r "$work/locked.txt"
pip install setuptools wheel # to build meinheld
echo "$name==$version --hash=sha256:$(field sha256)" >"$work/source.txt"
pip download --no-deps --no-binary :all: --require-hashes -r "$work/source.txt" -d "$work"
tar -xzf "$work/$name-$version.tar.gz" -C "$work"
for patch in $(field patches); do
  patch -d "$work/$name-$version" -p1 --batch --quiet <"$here/patches/$patch"
done
for path in $(field replaces); do rm "$work/$name-$version/$path"; done
for file in $(field sources); do cp "$here/src/$file" "$work/$name-$version/$(field sources_into)/"; done
CFLAGS="-O2 -g0 -DNDEBUG" pip install --no-deps --no-build-isolation "$work/$name-$version"
"$venv/bin/python" -c "import meinheld, sys; print('venv.sh: meinheld', meinheld.__version__, 'on Python', sys.version.split()[0])"

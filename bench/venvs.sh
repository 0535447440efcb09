#!/usr/bin/env bash
# Makes (or completes) the benchmarks' host venvs under VENVS: venvs.sh VENVS
#   server: requirements_lock.txt's greenlet and gunicorn (hash-checked) and the kit's meinheld
#           (runtime/meinheld/venv.sh; made again when its sources change), plus psycopg2-binary
#           for the workload app on gthread;
#   tools:  matplotlib, granian, bjoern (built against Debian's libev-dev, installed if missing),
#           psycopg2-binary;
#   gevent: the locked gunicorn (hash-checked), gevent, psycogreen, psycopg2-binary and packaging
#           (gunicorn's gevent worker imports it); apart, so that gevent's greenlet never changes the server's.
# A venv is made or completed only when what it must hold does not import; PyPI through pip's configuration.
set -euo pipefail
case "${1:-}" in -h | --help) sed -n '2,10{s/^# \{0,1\}//;p}' "$0"; exit 0 ;; esac
[ $# = 1 ] || { echo "venvs.sh: usage: venvs.sh VENVS (see --help)" >&2; exit 2; }
venvs=$1
ws=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
mkdir -p "$venvs"
# has VENV MODULE...: VENV's python imports every MODULE.
has() { local venv=$1; shift; [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "import ${*// /, }" 2>/dev/null; }
# The host's pip configuration may name local indexes that do not exist: not news (as in venv.sh).
pip() {
  local venv=$1
  shift
  "$venv/bin/pip" --quiet --disable-pip-version-check "$@" 2>&1 | { grep -v "^WARNING: Location 'file:" || true; }
}

# The server venv's meinheld is rebuilt whenever the kit's sources of it change.
meinheld=$(cd "$ws/runtime/meinheld" && cat source.json patches/* src/* | sha256sum | cut -c1-16)
if [ ! -x "$venvs/server/bin/gunicorn" ] || [ "$(cat "$venvs/server/meinheld.sources" 2>/dev/null)" != "$meinheld" ]; then
  rm -rf "$venvs/server"
  "$ws/runtime/meinheld/venv.sh" python3 "$venvs/server"
  echo "$meinheld" >"$venvs/server/meinheld.sources"
fi
has "$venvs/server" psycopg2 || pip "$venvs/server" install psycopg2-binary

if ! has "$venvs/tools" matplotlib granian bjoern psycopg2; then
  dpkg -s libev-dev >/dev/null 2>&1 || apt-get install -y -qq libev-dev >/dev/null # bjoern builds against it
  [ -x "$venvs/tools/bin/pip" ] || python3 -m venv "$venvs/tools"
  pip "$venvs/tools" install matplotlib granian bjoern psycopg2-binary
fi

if ! has "$venvs/gevent" gunicorn gevent psycogreen psycopg2 packaging; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  [ -x "$venvs/gevent/bin/pip" ] || python3 -m venv "$venvs/gevent"
  awk '/^gunicorn==/{p=1} p{print} p&&!/\\$/{p=0}' "$ws/requirements_lock.txt" >"$work/gunicorn.txt"
  pip "$venvs/gevent" install --no-deps --require-hashes -r "$work/gunicorn.txt"
  pip "$venvs/gevent" install gevent psycogreen psycopg2-binary packaging # gunicorn's gevent worker imports packaging
fi

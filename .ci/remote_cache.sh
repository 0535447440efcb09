#!/usr/bin/env bash
# CI: //:image builds from Bazel's HTTP remote cache. Starts Debian's nginx as the cache
# (.ci/remote_cache.py, run in the build root), builds //:image twice, each in a fresh output base
# with --remote_cache, and checks that the second build executed nothing itself: every
# action the first executed is a remote cache hit in the second. ("internal" actions,
# such as symlinks and runfiles trees, are Bazel's own and never reach a cache.)
# Prints both builds' process summaries and the hit count; stops nginx by its PID.
set -euo pipefail
case "${1:-}" in -h | --help) sed -n '2,/^set /{/^set /d;s/^# \{0,1\}//;p}' "$0" && exit 0 ;; esac
[ $# = 0 ] || { echo "${0##*/}: takes no arguments (see --help)" >&2; exit 2; }
cd "$(dirname "$0")/.."
# Under $BAZELW_CACHE/bazel: ./bazelw mounts it at the same path inside the build root.
work=$(mktemp -d "${BAZELW_CACHE:-/var/cache/bazelw}/bazel/remote-cache.XXXXXX")
chmod 755 "$work" # nginx's workers run as nobody
server=
cleanup() {
  if [ -f "$work/nginx/nginx.pid" ]; then kill "$(cat "$work/nginx/nginx.pid")" || true; fi
  if [ -n "$server" ]; then wait "$server" || true; fi
  for base in "$work"/output-*; do
    if [ -d "$base" ]; then ./bazelw --output_base="$base" shutdown || true; fi
  done
  rm -rf "$work"
}
trap cleanup EXIT

./bazelw --exec python3 "$PWD/.ci/remote_cache.py" --dir "$work/nginx" &
server=$!
for _ in $(seq 600); do
  if [ -f "$work/nginx/port" ] || ! kill -0 "$server" 2>/dev/null; then break; fi
  sleep 0.5
done
[ -f "$work/nginx/port" ] || { echo "remote_cache.sh: the cache server did not start" >&2; exit 1; }
cache=http://127.0.0.1:$(cat "$work/nginx/port")

build() { # build N: builds //:image in fresh output base N with the cache, logs to build-N.log
  ./bazelw --output_base="$work/output-$1" build --color=no --curses=no --remote_cache="$cache" //:image \
    2>&1 | tee "$work/build-$1.log" >&2
}
source .ci/summary.sh
executed() { besides 'remote cache hit' "$1"; } # executed SUMMARY: processes that ran on this machine
build 1
build 2
first=$(summary "$work/build-1.log")
second=$(summary "$work/build-2.log")
echo "first build:  $first"
echo "second build: $second"
hits=$(count 'remote cache hit' "$second")
echo "remote cache hits in the second build: $hits (actions the first build executed: $(executed "$first"))"
if [ "$(executed "$first")" = 0 ] || [ "$(executed "$second")" != 0 ] || [ "$hits" != "$(executed "$first")" ]; then
  echo "remote_cache.sh: the second build executed $(executed "$second") actions itself" >&2
  exit 1
fi

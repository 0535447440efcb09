#!/usr/bin/env bash
# CI: builds and tests on a remote-execution cluster: remote/cluster.py's BuildGrid and two
# buildbox workers on loopback, in the build root. Each client has a fresh output base.
#   1. A client builds //:image with every action executed remotely, to the digest of the
#      local build.
#   2. A second client executes nothing: every action is a remote cache hit.
#   3. A client that must execute again (--noremote_accept_cached) finishes with the same
#      digest although a worker (and its buildbox-casd) is killed while it runs an
#      action: BuildGrid puts the job back in the queue when the worker's session expires.
#   4. The server's tests (//runtime/...) give the same results remotely as locally.
# Prints each client's process summary; stops the cluster by its PID.
set -euo pipefail
case "${1:-}" in -h | --help) sed -n '2,/^set /{/^set /d;s/^# \{0,1\}//;p}' "$0" && exit 0 ;; esac
[ $# = 0 ] || { echo "${0##*/}: takes no arguments (see --help)" >&2; exit 2; }
cd "$(dirname "$0")/.."
# Under $BAZELW_CACHE/bazel: ./bazelw mounts it at the same path inside the build root.
work=$(mktemp -d "${BAZELW_CACHE:-/var/cache/bazelw}/bazel/remote-execution.XXXXXX")
cluster=
cleanup() {
  if [ -n "$cluster" ]; then kill "$cluster" 2>/dev/null || true; wait "$cluster" || true; fi
  for base in "$work"/output-*; do
    if [ -d "$base" ]; then ./bazelw --output_base="$base" shutdown || true; fi
  done
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "remote_execution.sh: $*" >&2; exit 1; }

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# A short session expiry: a killed worker's job is queued again after 15 s.
./bazelw --exec remote/cluster.py --dir "$work/cluster" --port "$port" --workers 2 --keepalive 15 &
cluster=$!
while [ ! -f "$work/cluster/cluster.json" ]; do
  kill -0 "$cluster" 2>/dev/null || fail "the cluster did not start"
  sleep 0.5
done
export REMOTE_EXECUTOR=grpc://127.0.0.1:$port
pid() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["pids"][sys.argv[2]])' "$work/cluster/cluster.json" "$1"; }

client() { # client N ARGS...: bazel ARGS in fresh output base N with --config=remote, logged to client-N.log
  local n=$1 command=$2
  shift 2
  ./bazelw --output_base="$work/output-$n" "$command" --config=remote --color=no --curses=no \
    --experimental_convenience_symlinks=ignore "$@" 2>&1 | tee "$work/client-$n.log" >&2
}
source .ci/summary.sh
only() { # only N KIND: every process of client N but Bazel's internal ones was a KIND one
  local s
  s=$(summary "$work/client-$1.log")
  echo "client $1: $s"
  [ "$(count "$2" "$s")" -gt 0 ] && [ "$(besides "$2" "$s")" = 0 ] ||
    fail "client $1 ran $(besides "$2" "$s") processes that were not $2"
}
digest() { grep -o '"digest":"sha256:[0-9a-f]*"' "$1/image/image/index.json" | cut -d'"' -f4; }
same_image() { # same_image N: client N's //:image has the local build's digest
  local remote
  remote=$(digest "$work/output-$1/execroot/_main/bazel-out/k8-fastbuild/bin")
  echo "client $1's //:image: $remote"
  [ "$remote" = "$local_digest" ] || fail "client $1's //:image is $remote, the local build's $local_digest"
}

echo "== the local build's //:image"
./bazelw build //:image
local_digest=$(digest bazel-bin)

echo "== 1. a clean client builds //:image remotely"
client 1 build //:image
only 1 remote
same_image 1

echo "== 2. a second clean client: all cache hits"
client 2 build //:image
only 2 'remote cache hit'

echo "== 3. a worker killed while it runs an action of a clean client's build"
client 3 build //:image --noremote_accept_cached &
build=$!
killed=
while [ -z "$killed" ] && kill -0 "$build" 2>/dev/null; do
  for n in 1 2; do
    worker=$(pid "worker-$n")
    runner=$(pgrep -P "$worker" || true)
    if [ -n "$runner" ]; then
      kill -9 "$worker" "$(pid "casd-$n")" $runner
      killed=worker-$n
      break
    fi
  done
  sleep 0.1
done
wait "$build" || fail "client 3's build failed after $killed was killed"
[ -n "$killed" ] || fail "no worker was seen running an action of client 3"
echo "$killed was killed mid-action"
grep "BotSession has expired" "$work/cluster/logs/buildgrid.log" | grep "$killed" >&2 ||
  fail "BuildGrid did not report $killed's session expired"
only 3 remote
same_image 3

echo "== 4. the server's tests, remotely (on the one worker left) and locally"
results() { grep -E '^//[^ ]+ +(\(cached\) )?(PASSED|FAILED|TIMEOUT|NO STATUS|FLAKY)' "$1" | sed 's/(cached) //' | awk '{print $1, $2}' | sort; }
./bazelw test //runtime/... --test_summary=short --color=no --curses=no 2>&1 | tee "$work/local-tests.log" >&2 || true
client 4 test //runtime/... --test_summary=short || true
s=$(summary "$work/client-4.log")
echo "client 4: $s"
diff <(results "$work/local-tests.log") <(results "$work/client-4.log") >&2 ||
  fail "the server's tests gave other results remotely (+) than locally (-)"
echo "the server's tests: $(results "$work/client-4.log" | grep -c PASSED) passed, the same remotely as locally"
[ "$(results "$work/client-4.log" | grep -vc PASSED)" = 0 ] || fail "some of the server's tests failed"

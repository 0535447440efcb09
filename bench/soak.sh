#!/usr/bin/env bash
# Soak test (not a Bazel test): serves the image read-only as `./bazelw run //:run` does,
# on a free 127.0.0.1 port, drives it with `wrk -t1 -c64` for SECONDS (default 60) and
# prints requests/s and wrk's error counts. Exits 1 if any request failed.
#
# Usage: bench/soak.sh [SECONDS]      (needs wrk on this machine: apt-get install wrk)
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in -h | --help) sed -n '2,/^set /{/^set /d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;; esac
seconds=${1:-60}
command -v wrk >/dev/null || { echo "soak: wrk not found: apt-get install wrk" >&2; exit 2; }
[[ $seconds =~ ^[1-9][0-9]*$ ]] || { echo "soak: SECONDS must be a positive integer, not '$seconds'" >&2; exit 2; }
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
work=$(mktemp -d)
./bazelw run //:run -- --port "$port" >"$work/run.log" 2>&1 &
server=$!
trap 'kill -INT "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
until curl -fs -o /dev/null "http://127.0.0.1:$port/"; do
  kill -0 "$server" 2>/dev/null || { tail -n 20 "$work/run.log" >&2; echo "soak: the server did not start" >&2; exit 1; }
  sleep 1
done
wrk -t1 -c64 -d"${seconds}s" --latency "http://127.0.0.1:$port/" >"$work/wrk.txt"
cat "$work/wrk.txt"
rps=$(awk '/^Requests\/sec:/ {print $2}' "$work/wrk.txt")
non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$work/wrk.txt")
socket=$(sed -n 's/^ *Socket errors: //p' "$work/wrk.txt")
echo "soak: ${seconds}s, ${rps:-?} requests/s, non-2xx: ${non2xx:-0}, socket errors: ${socket:-none}"
[ -n "$rps" ] && [ -z "$non2xx" ] && [ -z "$socket" ]

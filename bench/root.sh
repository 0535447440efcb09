#!/usr/bin/env bash
# Runs a command inside ./bazelw's build root: root.sh CMD [ARGS...]; root.sh --path prints
# the root's directory on the host. The command starts in / with a clean environment.
set -euo pipefail
case "${1:-}" in -h | --help | "") sed -n '2,3{s/^# \{0,1\}//;p}' "$0"; exit 0 ;; esac
bazelw=$(dirname "${BASH_SOURCE[0]}")/../bazelw
[ "$1" = --path ] && exec "$bazelw" --root
exec "$bazelw" --exec "$@"

#!/usr/bin/env bash
# CI: //:image and the image index //:push pushes (amd64 and arm64) are reproducible.
# Clones this checkout to another absolute path and builds both there under umask 002 in
# a fresh output base, builds them here under umask 022, prints the digests and fails if
# they differ. The clone also gets this checkout's uncommitted files (.ci/clone.sh).
set -euo pipefail
case "${1:-}" in -h | --help) sed -n '2,/^set /{/^set /d;s/^# \{0,1\}//;p}' "$0" && exit 0 ;; esac
[ $# = 0 ] || { echo "${0##*/}: takes no arguments (see --help)" >&2; exit 2; }
cd "$(dirname "$0")/.."
# Under $BAZELW_CACHE/bazel: ./bazelw mounts it at the same path inside the build root.
work=$(mktemp -d "${BAZELW_CACHE:-/var/cache/bazelw}/bazel/reproducible.XXXXXX")
cleanup() {
  if [ -d "$work/output" ]; then (cd "$work/checkout" && ./bazelw --output_base="$work/output" shutdown) || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

(
  umask 002
  .ci/clone.sh "$work/checkout"
  cd "$work/checkout"
  # An empty pip cache: wheels made from source archives are built again.
  ./bazelw --output_base="$work/output" build --repo_env=PIP_CACHE_DIR="$work/pip-cache" //:image //image:image_index
)
(umask 022 && ./bazelw build //:image //image:image_index)
digest() { grep -o '"digest":"sha256:[0-9a-f]*"' "$1/bazel-bin/image/$2/index.json" | cut -d'"' -f4; }
status=0
for layout in image image_index; do
  here=$(digest . "$layout")
  clone=$(digest "$work/checkout" "$layout")
  echo "//image:$layout in $(pwd): $here"
  echo "//image:$layout in a clone at another path, umask 002: $clone"
  [ "$here" = "$clone" ] || { echo "reproducible.sh: the $layout digests differ" >&2; status=1; }
done
exit "$status"

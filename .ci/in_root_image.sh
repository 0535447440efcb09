#!/usr/bin/env bash
# Runs a command in a podman container of the build-root image, as a CI runner runs a job
# in its job container: in_root_image.sh [--podman-inside] IMAGE CACHE COMMAND [ARGS...]
#
# This checkout is mounted at its own path and is the working directory; CACHE (a
# directory: keep it between jobs) is the container's /var/cache/bazelw, where Bazel keeps
# its repository and action caches; the host's CA bundle replaces the image's (for
# networks that intercept TLS); the host's network. Nothing else: no added capability.
# --podman-inside makes the container privileged, as the container tests need (podman,
# network namespaces and bubblewrap inside it), and as the CI recipes' jobs are.
# Run it where podman is: a host with podman, or the build root (./bazelw --exec).
set -euo pipefail
case "${1:-}" in -h | --help) sed -n '2,/^set /{/^set /d;s/^# \{0,1\}//;p}' "$0" && exit 0 ;; esac
flags=()
if [ "${1:-}" = --podman-inside ]; then
  flags=(--privileged)
  shift
fi
[ $# -ge 3 ] || { echo "usage: ${0##*/} [--podman-inside] IMAGE CACHE COMMAND [ARGS...] (see --help)" >&2; exit 2; }
image=$1 cache=$2
shift 2
ws=$(cd "$(dirname "$0")/.." && pwd -P)
case "$image" in localhost[:/]* | 127.0.0.1[:/]*) flags+=(--tls-verify=false) ;; esac
mkdir -p "$cache"
exec podman --runtime runc run --rm --network host "${flags[@]}" --volume "$ws:$ws" --workdir "$ws" \
  --volume "$cache:/var/cache/bazelw" --volume /etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/ca-certificates.crt:ro \
  "$image" "$@"

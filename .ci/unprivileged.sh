#!/usr/bin/env bash
# CI: ./bazelw as an ordinary user without sudo, and the build root as an image.
# Makes a user of CI's own with a range of subordinate ids (as adduser gives one), clones
# this checkout into its home (0700, with the uncommitted files: .ci/clone.sh), and as
# that user:
#   1. `./bazelw test //...`; every file in the clone stays the user's, and //:image has
#      the digest it has here (built as root);
#   2. `./bazelw --root-image`, with the digest root's run gives (two runs, two modes of
#      mmdebstrap), pushed to a registry on loopback (the build root's docker-registry);
#   3. in an unprivileged container of that image (rootless podman, no added flags),
#      `./bazelw build //:image //:sbom` and `run //:push`: the same digest;
#   4. `./bazelw --mirror` copies every locked input into a directory; then, in a network
#      namespace of loopback alone (no Debian archive, no PyPI), with that mirror and the
#      registry served there, BAZELW_ROOT_IMAGE=REGISTRY/NAME@DIGEST makes a fresh build
#      root from the image and BAZELW_MIRROR feeds a fresh cache: `./bazelw build //:image`
#      gives the same digest, and `./bazelw fetch //...` finds every other input too;
#   5. as root, the CI recipes (.ci/recipes) run the way their runners run them, in a
#      rootful podman container of that image (.ci/recipes/run_locally.py): build, test
#      //..., and push to the registry the same image index as here; each job's kept cache
#      then holds every locked .deb.
# Removes the user, its processes and its files after.
set -euo pipefail
case "${1:-}" in -h | --help) sed -n '2,/^set /{/^set /d;s/^# \{0,1\}//;p}' "$0" && exit 0 ;; esac
[ $# = 0 ] || { echo "${0##*/}: takes no arguments (see --help)" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "${0##*/}: run it as root (it makes a user)" >&2; exit 2; }
cd "$(dirname "$0")/.."
user=bazelw-ci
home=/home/$user
ci=$home/.cache/bazelw/bazel/ci # inside the cache: the build root sees it at the same path
# With the PATH Debian gives an ordinary user (no /usr/sbin), as a user's own shell has.
as_user() { su "$user" -c "cd ~/kit && PATH=/usr/local/bin:/usr/bin:/bin $(printf '%q ' "$@")"; }
cleanup() {
  local pid
  if [ -d "$home/kit" ]; then
    as_user ./bazelw shutdown >/dev/null 2>&1 || true
    [ -d "$home/fresh" ] && as_user env BAZELW_CACHE="$home/fresh" ./bazelw shutdown >/dev/null 2>&1 || true
  fi
  for pid in $(cat "$ci"/*.pid "$home"/.cache/bazelw/run/*.pid "$home"/fresh/run/*.pid 2>/dev/null); do
    kill "$pid" 2>/dev/null || true
  done
  userdel --remove "$user" 2>/dev/null || true
  sed -i "/^$user:/d" /etc/subuid /etc/subgid 2>/dev/null || true
}
trap cleanup EXIT
cleanup
useradd --create-home --shell /bin/bash "$user"
chmod 0700 "$home"
touch /etc/subuid /etc/subgid
# A range past any other: the highest end in use, rounded up.
first=$(awk -F: '{ end = $2 + $3; if (end > max) max = end } END { print (int(max / 65536) + 1) * 65536 + 100000 }' /etc/subuid /etc/subgid)
usermod --add-subuids "$first-$((first + 65535))" --add-subgids "$first-$((first + 65535))" "$user"
.ci/clone.sh "$home/kit"
chown -R "$user:" "$home/kit"
digest() { sed -n 's/.*"digest":"\(sha256:[0-9a-f]*\)".*/\1/p' "$1/index.json"; }
same() { # same WHAT DIGEST: fails unless DIGEST is //:image's as root
  echo "//:image $1: $2"
  [ "$2" = "$want" ] || { echo "CI: //:image $1 is $2, not $want as root" >&2; exit 1; }
}
want=$(digest bazel-bin/image/image)

echo "-- 1. ./bazelw test //... as $user"
as_user ./bazelw test //... --test_summary=short --curses=no --show_progress_rate_limit=30
foreign=$(find "$home/kit" ! -user "$user" -printf '%p\n' | head -5)
[ -z "$foreign" ] || { echo "CI: files in the clone that are not $user's:" "$foreign" >&2; exit 1; }
same "as $user" "$(digest "$home/kit/bazel-bin/image/image")"

echo "-- 2. the build root image, pushed to a registry on loopback"
as_user mkdir -p "$ci"
as_user ./bazelw --root-image "$ci/root-image"
./bazelw --root-image "$ci/root-image-as-root"
echo "the build root image as $user: $(digest "$ci/root-image"); as root: $(digest "$ci/root-image-as-root")"
[ "$(digest "$ci/root-image")" = "$(digest "$ci/root-image-as-root")" ] ||
  { echo "CI: the build root image differs between two runs" >&2; exit 1; }
rm -rf "$ci/root-image-as-root"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
printf 'version: 0.1\nstorage: {filesystem: {rootdirectory: %s}}\nhttp: {addr: 127.0.0.1:%s}\n' "$ci/registry" "$port" >"$ci/registry.yml"
serve() { # serve NAME URL COMMAND...: runs COMMAND as the user in the background until URL answers
  local name=$1 url=$2
  shift 2
  as_user bash -c 'echo $$ >"$0.pid" && exec "$@" >"$0.log" 2>&1' "$ci/$name" "$@" &
  until curl -fsS "$url" >/dev/null 2>&1; do kill -0 $! 2>/dev/null || { cat "$ci/$name.log" >&2; exit 1; }; sleep 0.2; done
}
serve registry "http://127.0.0.1:$port/v2/" ./bazelw --exec docker-registry serve "$ci/registry.yml"
root_digest=$(digest "$ci/root-image")
image=127.0.0.1:$port/bazelw-root@$root_digest
as_user ./bazelw --exec skopeo copy --quiet --preserve-digests --dest-tls-verify=false "oci:$ci/root-image" "docker://127.0.0.1:$port/bazelw-root:ci"

echo "-- 3. ./bazelw in an unprivileged container of $image"
as_user ./bazelw --exec "$home/kit/.ci/in_root_image.sh" "$image" "$ci/container-cache" \
  bash -c "./bazelw build //:image //:sbom --curses=no && ./bazelw run //:push --curses=no -- --repository 127.0.0.1:$port/app"
same "in the container" "$(digest "$ci/container-cache/bazel/out-"*/execroot/_main/bazel-out/k8-fastbuild/bin/image/image)"

echo "-- 4. loopback alone: the root from BAZELW_ROOT_IMAGE=$image, the inputs from BAZELW_MIRROR"
as_user ./bazelw --mirror "$ci/mirror"
offline() {
  ip link set lo up
  ! curl -fsS -o /dev/null --max-time 10 https://pypi.org/simple/ 2>/dev/null || { echo "CI: PyPI is reachable offline" >&2; exit 1; }
  serve registry-offline "http://127.0.0.1:$port/v2/" ./bazelw --exec docker-registry serve "$ci/registry.yml"
  serve mirror "http://127.0.0.1:$port2/pypi/simple/" python3 -m http.server --bind 127.0.0.1 --directory "$ci/mirror" "$port2"
  local fresh=(env BAZELW_CACHE="$home/fresh" BAZELW_ROOT_IMAGE="$image" BAZELW_MIRROR="http://127.0.0.1:$port2")
  as_user "${fresh[@]}" ./bazelw build //:image --curses=no
  same "in a root from BAZELW_ROOT_IMAGE, inputs from BAZELW_MIRROR" "$(digest "$home/kit/bazel-bin/image/image")"
  as_user "${fresh[@]}" ./bazelw fetch //... --curses=no
  as_user "${fresh[@]}" ./bazelw shutdown
}
port2=$((port + 1))
export -f offline serve same as_user digest
export home ci user port port2 image want
unshare --net bash -euo pipefail -c offline

echo "-- 5. the CI recipes, run as their runners would in a container of $image"
recipes=$PWD/.cache/recipes # in the checkout (kept out of //... by .bazelignore): the root sees it
rm -rf "$recipes" && mkdir -p "$recipes"
want_index=$(digest bazel-bin/image/image_index)
recipe() { # recipe FILE ARGS...: runs it, and checks what it pushed
  ./bazelw --exec "$PWD/.ci/recipes/run_locally.py" "$PWD/.ci/recipes/$1" --cache "$recipes/${1%.yml}" \
    --var BAZELW_ROOT_IMAGE="$image" "${@:2}" 2>&1 | tee "$recipes/$1.log"
  pushed=$(sed -n "s|^127.0.0.1:$port/[a-z-]*@||p" "$recipes/$1.log" | tail -1)
  echo "$1 pushed the image index $pushed"
  [ "$pushed" = "$want_index" ] || { echo "CI: $1 pushed ${pushed:-nothing}, not $want_index" >&2; exit 1; }
  local kept=("$recipes/${1%.yml}"/*/content_addressable/sha256) sha256 missing=0
  for sha256 in $(sed -n 's/.*"sha256": "\([0-9a-f]\{64\}\)".*/\1/p' debian/packages.lock.json requirements_debian_lock.json); do
    [ -e "${kept[0]}/$sha256/file" ] || missing=$((missing + 1))
  done
  echo "$1: $missing locked .debs missing from its kept cache"
  [ "$missing" = 0 ] || { echo "CI: $1's cache lacks $missing locked .debs" >&2; exit 1; }
}
recipe github-actions.yml --env IMAGE_REPOSITORY="127.0.0.1:$port/github"
recipe gitlab-ci.yml --privileged --env CI_REGISTRY="127.0.0.1:$port" --env CI_REGISTRY_IMAGE="127.0.0.1:$port/gitlab"

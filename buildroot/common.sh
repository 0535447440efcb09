# Sourced by ./bazelw and buildroot/*: what they share.
#   die MESSAGE          one line on stderr, exit 1
#   as_root CMD...       runs CMD as root of the build root's files: directly as root; as an
#                        ordinary user, in a user namespace mapping root to the user and
#                        uids 1-65535 to their subordinate range (/etc/subuid)

die() { echo "bazelw: $*" >&2; exit 1; }

# chroot and pivot_root are in /usr/sbin, which Debian leaves out of an ordinary user's PATH.
PATH=$PATH:/usr/sbin:/sbin

if [ "$(id -u)" = 0 ]; then
  userns=()
else
  userns=(--map-root-user --map-auto)
fi
as_root() { if [ ${#userns[@]} = 0 ]; then "$@"; else unshare "${userns[@]}" -- "$@"; fi; }

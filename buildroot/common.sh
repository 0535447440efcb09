# Sourced by ./bazelw and buildroot/*: what they share.
#   die MESSAGE          one line on stderr, exit 1
#   as_root CMD...       runs CMD as root of the build root's files: directly as root; as an
#                        ordinary user, in a user namespace mapping root to the user and
#                        uids 1-65535 to their subordinate range (/etc/subuid)
#   debian_mirror, security_mirror: the Debian archive URLs, from BAZELW_DEBIAN_MIRROR /
#                        BAZELW_SECURITY_MIRROR or the host's apt sources

die() { echo "bazelw: $*" >&2; exit 1; }

if [ "$(id -u)" = 0 ]; then
  userns=()
else
  userns=(--map-root-user --map-auto)
fi
as_root() { if [ ${#userns[@]} = 0 ]; then "$@"; else unshare "${userns[@]}" -- "$@"; fi; }

# Prints the URIs of the host's apt sources, one per line (deb822 and one-line formats).
apt_uris() {
  cat /etc/apt/sources.list.d/*.sources 2>/dev/null | sed -n 's/^URIs:[[:space:]]*//p' | tr ' ' '\n'
  cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
    sed -n 's/^deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\{0,1\}\([^[:space:]]\+\).*/\2/p'
}

debian_mirror=${BAZELW_DEBIAN_MIRROR:-$(apt_uris | grep -v -- '-security' | grep -m1 . || true)}
security_mirror=${BAZELW_SECURITY_MIRROR:-$(apt_uris | grep -m1 -- '-security' || true)}
[ -n "$debian_mirror" ] || die "no Debian mirror in /etc/apt/sources*; set BAZELW_DEBIAN_MIRROR"
[ -n "$security_mirror" ] || security_mirror="${debian_mirror%/debian*}/debian-security"
debian_mirror=${debian_mirror%/}
security_mirror=${security_mirror%/}
export debian_mirror security_mirror

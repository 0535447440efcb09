# Sourced by ./bazelw (only: the scripts it calls get the URLs as arguments): sets
# debian_mirror and security_mirror, the Debian archive URLs, from BAZELW_DEBIAN_MIRROR /
# BAZELW_SECURITY_MIRROR or the host's apt sources; mirror, BAZELW_MIRROR (a mirror
# `./bazelw --mirror` made, where the build's locked inputs then come from alone); and
# pypi_upstream, BAZELW_PYPI_MIRROR or PyPI; pypi_index, the index pip reads: the
# mirror's, else pypi_upstream.

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
mirror=${BAZELW_MIRROR:-}
mirror=${mirror%/}
pypi_upstream=${BAZELW_PYPI_MIRROR:-https://pypi.org/simple}
pypi_index=$pypi_upstream
[ -z "$mirror" ] || pypi_index=$mirror/pypi/simple # the layout buildroot/mirror.py writes

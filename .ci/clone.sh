#!/usr/bin/env bash
# Clones this checkout to DEST with its uncommitted and untracked (not ignored) files, so
# that a build there builds the same sources: clone.sh DEST
set -euo pipefail
[ $# = 1 ] || { echo "usage: ${0##*/} DEST" >&2; exit 2; }
dest=$1
cd "$(dirname "$0")/.."
git clone --quiet --no-hardlinks . "$dest"
changed() { git diff -z --name-only --diff-filter="$1" HEAD; }
changed D | (cd "$dest" && xargs -0r rm -f --)
{ changed d && git ls-files -z --others --exclude-standard; } |
  tar --null -T - -cf - | tar -xf - --no-same-permissions -C "$dest"

#!/usr/bin/env bash
# Bazel workspace status (.bazelrc): the revision and source for --stamp builds and the
# provenance (image/provenance.py), and the build root the provenance names.
set -euo pipefail
commit=$(git rev-parse HEAD 2>/dev/null || true)
# A CI clone's remote may carry a token (https://user:token@host/...): never written out.
remote=$(git config --get remote.origin.url 2>/dev/null | sed -E 's#^([a-z+]+://)[^/@]*@#\1#' || true)
dirty=false
[ -z "$(git status --porcelain --untracked-files=no 2>/dev/null | head -1)" ] || dirty=true
echo "STABLE_GIT_COMMIT ${commit}"
echo "STABLE_GIT_REMOTE ${remote}"
echo "STABLE_GIT_DIRTY ${dirty}"
echo "STABLE_BUILD_ROOT $(cat /etc/bazelw-root 2>/dev/null || true)"
echo "STABLE_BUILD_ROOT_IMAGE ${BAZELW_ROOT_IMAGE:-}"

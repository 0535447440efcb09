#!/usr/bin/env bash
# Bazel workspace status (.bazelrc): the revision and source for --stamp builds.
set -euo pipefail
commit=$(git rev-parse HEAD 2>/dev/null || true)
remote=$(git config --get remote.origin.url 2>/dev/null || true)
echo "STABLE_GIT_COMMIT ${commit}"
echo "STABLE_GIT_REMOTE ${remote}"

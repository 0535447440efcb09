# Sourced by .ci/remote_cache.sh and .ci/remote_execution.sh: Bazel's process summary.
#   summary LOG         LOG's last "T processes: ..." line (fails if there is none)
#   count KIND SUMMARY  the number of KIND processes ("remote", "remote cache hit"...) in SUMMARY
#   besides KIND SUMMARY  processes neither internal (Bazel's own, never cached) nor KIND

summary() { sed -n 's/^INFO: \([0-9]* process.*\)\.$/\1/p' "$1" | tail -1 | grep .; }
count() {
  local n
  n=$(grep -o "[0-9]* $1\(,\|$\)" <<<"$2" | cut -d' ' -f1) || true
  echo "${n:-0}"
}
besides() { echo $((${2%% *} - $(count internal "$2") - $(count "$1" "$2"))); }

#!/usr/bin/env bash
# Runs every benchmark, then regenerates BENCHMARKS.md, bench/plots/ and bench/results/.
# Usage: bench/run_all.sh [--quick] [--previous OCI_LAYOUT] [--threads N[,M...]]   (as root, next to ./bazelw)
#   --quick: a short smoke run; --previous: an earlier build of the image (an OCI layout directory,
#   e.g. a copy of bazel-bin/image/image) measured side by side with HEAD's: size, start-up, throughput;
#   --threads: the real workloads also run the image with THREADS=N (contender image-threads=N), each N.
# Needs the host's python3 (venvs go to $BENCH_VENVS, default /tmp/bench-venvs, made on first use by
# bench/venvs.sh; bjoern needs Debian's libev-dev, installed if missing).
set -euo pipefail
quick= previous=() threads=
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help) sed -n '2,8{s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    --quick) quick=1 ;;
    --previous)
      [ -f "${2:-}/index.json" ] || { echo "run_all.sh: --previous needs an OCI layout directory" >&2; exit 2; }
      previous=(--previous "$(cd "$2" && pwd -P)") && shift ;;
    --threads)
      [[ ${2:-} =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]] || { echo "run_all.sh: --threads needs N[,M...]" >&2; exit 2; }
      threads=$2 && shift ;;
    *) echo "run_all.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
bench=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
ws=$(dirname "$bench")
venvs=${BENCH_VENVS:-/tmp/bench-venvs}
work=$(mktemp -d /tmp/bench-run.XXXXXX)
trap 'rm -rf "$work"' EXIT
results=$bench/results
rm -rf "$results" && mkdir -p "$results"

"$bench/venvs.sh" "$venvs"
py=(taskset -c 0 env PYTHONDONTWRITEBYTECODE=1 "$venvs/tools/bin/python")

# step NAME ARGS...: runs bench/NAME.py ARGS on CPU 0, recording the command (paths made symbolic).
step() {
  local name=$1
  shift
  echo "run_all: $name" >&2
  printf '%s\t%s\n' "$name" "bench/$name.py $*" | sed "s#$work#WORK#g; s#$venvs#VENVS#g; s#$ws/##g${previous[1]:+; s#${previous[1]}#PREVIOUS#g}" >>"$work/commands.tsv"
  "${py[@]}" "$bench/$name.py" "$@"
}

if [ -n "$quick" ]; then
  tp=(--rounds 2 --seconds 1) st=(--rounds 2) mem=(--seconds 2) bd=(--quick) wl=(--rounds 1 --seconds 2)
  note="A --quick smoke run: too short for conclusions."
else
  tp=(--rounds 5 --seconds 5) st=(--rounds 7) mem=(--seconds 30) bd=() wl=(--rounds 3 --seconds 5)
  note="Anything else running on the machine shows in the load averages above; absolute figures drift from run to run: compare ratios."
fi
"${py[@]}" "$bench/meta.py" start --out "$results/meta.json" \
  --invocation "bench/run_all.sh${quick:+ --quick}${previous[1]:+ --previous PREVIOUS}${threads:+ --threads $threads}" --note "$note"
# Everything measured comes from HEAD: the image is built in build.py's clone, the bare servers
# run HEAD's runtime/ and app/, gthread HEAD's examples/postgres; the workload app, bench/apps/tfb,
# comes with the bench scripts.
mkdir "$work/src" && git -C "$ws" archive HEAD runtime app examples | tar -x -C "$work/src"
step build --out "$results/build.json" --image-out "$work/image" --nopyc-out "$work/image-nopyc" "${bd[@]}"
step remote_build --out "$results/remote_build.json"
# The real workloads' images: HEAD's kit with bench/apps/tfb, and with HEAD's examples/postgres, as the user's app.
step app_images "$bench/apps/tfb=$work/image-tfb" "$work/src/examples/postgres=$work/image-example" \
  --out "$results/app_images.json"
step size pyc="$work/image" nopyc="$work/image-nopyc" ${previous[1]:+previous="${previous[1]}"} --out "$results/size.json"
step throughput --image "$work/image" "${previous[@]}" --source "$work/src" --server-venv "$venvs/server" --tools-venv "$venvs/tools" \
  --out "$results/throughput.json" "${tp[@]}"
step workloads --image "$work/image-tfb" --example-image "$work/image-example" --example-app "$work/src/examples/postgres/app" \
  --server-venv "$venvs/server" --tools-venv "$venvs/tools" --gevent-venv "$venvs/gevent" \
  --contenders "image${threads:+,image-threads=${threads//,/,image-threads=}},granian,gthread,gevent,bjoern" \
  --out "$results/workloads.json" "${wl[@]}"
step memory --image "$work/image" --source "$work/src" --server-venv "$venvs/server" --out "$results/memory.json" "${mem[@]}"
step startup --image "$work/image" --image-nopyc "$work/image-nopyc" "${previous[@]}" --source "$work/src" --server-venv "$venvs/server" \
  --out "$results/startup.json" "${st[@]}"
"${py[@]}" "$bench/meta.py" end --out "$results/meta.json" --commands "$work/commands.tsv"
"${py[@]}" "$bench/report.py" --results "$results" --out "$ws/BENCHMARKS.md"
echo "run_all: wrote BENCHMARKS.md, bench/plots/, bench/results/" >&2

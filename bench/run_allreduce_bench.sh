#!/usr/bin/env bash
# Gradient-sync efficiency (issue 3): algorithm bandwidth of strike's bucketed gradient all-reduce
# (GradientSync, default options) against raw in-place MPI_Allreduce of the same bytes, 64 KiB .. 64 MiB of
# float32, 2 ranks on this host, both measured in the same processes (bench/allreduce_bench.cpp).
# Bar: strike >= 90% of raw MPI_Allreduce at every size.
# Usage: bench/run_allreduce_bench.sh [BUILD_DIR]; prints a table, replaces its section of bench/RESULTS.md.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="$(cd "${1:-$here/../build}" && pwd)"
source "$here/results_section.sh"
work="$(mktemp -d /tmp/strike_allreduce_bench.XXXXXX)"; trap 'rm -rf "$work"' EXIT
ninja -C "$build" -j2 strike_allreduce_bench >/dev/null
mpirun_args=(-np 2 --oversubscribe)
[ "$(id -u)" = 0 ] && mpirun_args+=(--allow-run-as-root)

run() {  # run NAME [MPIRUN_OPTIONS...]: output in $work/NAME, load averages before/after in $work/NAME.load
  local name="$1"; shift
  local before; wait_for_idle; before="$(load_average)"
  mpirun "${mpirun_args[@]}" "$@" "$build/bin/strike_allreduce_bench" >"$work/$name"
  echo "$before -> $(load_average)" >"$work/$name.load"
}
run default

# Output columns: bytes buckets raw_us iraw_us comm_us strike_us div_us raw_GB/s strike_GB/s ratio
size_label() { awk -v b="$1" 'BEGIN{ if (b >= 1048576) printf "%d MiB", b/1048576; else printf "%d KiB", b/1024 }'; }
table() {  # table NAME: markdown rows
  local bytes buckets raw iraw comm strike div rawbw strikebw ratio
  grep -v '^#' "$work/$1" | while read -r bytes buckets raw iraw comm strike div rawbw strikebw ratio; do
    printf '| %s, %s bucket(s): strike %.2f GB/s (%.0f µs; MpiCommunicator whole buffer %.0f µs, averaging div_ %.0f µs) | MPI_Allreduce %.2f GB/s (%.0f µs; MPI_Iallreduce %.0f µs) | %.2f | 2-core Debian 12 CPU, load %s | %s |\n' \
      "$(size_label "$bytes")" "$buckets" "$strikebw" "$strike" "$comm" "$div" "$rawbw" "$raw" "$iraw" "$ratio" \
      "$(cat "$work/$1.load")" "$(date +%F)"
  done
}
summary() {  # summary NAME: "K of N sizes >= 0.90, ratio min X, median Y"
  grep -v '^#' "$work/$1" | awk '{print $10}' | sort -g | awk '{r[NR]=$1; if ($1 >= 0.9) k++} END {
    printf "%d of %d sizes >= 0.90, ratio min %.2f, median %.2f", k, NR, r[1], (NR % 2 ? r[(NR+1)/2] : (r[NR/2]+r[NR/2+1])/2) }'
}

comm_summary() {  # comm_summary NAME: the same for MpiCommunicator's all-reduce of the whole buffer
  grep -v '^#' "$work/$1" | awk '{print $3 / $5}' | sort -g | awk '{r[NR]=$1; if ($1 >= 0.9) k++} END {
    printf "%d of %d sizes >= 0.90, ratio min %.2f, median %.2f", k, NR, r[1], (NR % 2 ? r[(NR+1)/2] : (r[NR/2]+r[NR/2+1])/2) }'
}

echo "== default (what strike runs with); load $(cat "$work/default.load")"; cat "$work/default"
echo "bar strike >= 0.90 × MPI_Allreduce: $(summary default)"
echo "MpiCommunicator on the whole buffer (no averaging pass) vs MPI_Allreduce: $(comm_summary default)"

section="$work/section.md"
{
  echo "## Gradient-sync efficiency (bench/run_allreduce_bench.sh, $(date +%F))"
  echo
  echo "Algorithm bandwidth (bytes / time) of one gradient sync, \`mpirun -np 2 --oversubscribe\` on this host"
  echo "(shared memory), strike at commit $(git -C "$here/.." rev-parse --short HEAD). strike: a fake model of 16"
  echo "equal float32 parameters whose flat gradient buffer has the message size, bucketed by GradientSync with"
  echo "default options (25 MiB buckets, 1 MiB first); timed: prepare(true), every gradient-accumulator hook"
  echo "fired in backward order (no autograd, no compute; the hooks reduce the buckets as they fill), finish()."
  echo "Reference: raw in-place \`MPI_Allreduce\` of the same bytes, interleaved with strike's iterations in the"
  echo "same processes. Also shown: MPI_Iallreduce + MPI_Wait, MpiCommunicator's all_reduce_sum_async + wait of"
  echo "the whole buffer, and a div_ of a buffer of that size (the averaging pass alone). Median of 15-100"
  echo "iterations (after 5 warm-up) of the slower rank's time; bar: ratio >= 0.90. Result: $(summary default)."
  echo "For comparison, MpiCommunicator's all-reduce of the whole buffer without the averaging pass against"
  echo "MPI_Allreduce: $(comm_summary default)."
  echo "Before commit 3e410b5 (strike at feade11): 5 of 11 sizes >= 0.90, ratio min 0.76, median 0.88: every bucket's"
  echo "all-reduce made a new view of its range of the flat gradients (narrow), 4-30 µs a step in LibTorch 1.13's"
  echo "dispatcher; the views are now made once."
  echo
  echo "| figure | reference | ratio | machine | date |"
  echo "|---|---|---|---|---|"
  table default
} >"$section"
replace_results_section "$here/RESULTS.md" "## Gradient-sync efficiency" "$section"
echo "updated $here/RESULTS.md"

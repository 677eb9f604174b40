#!/usr/bin/env bash
# Scaling (issue 3): the default Fashion-MNIST baseline (small_cnn, AdamW, batch 128 per rank, default flags)
# on 2 ranks x 1 thread against 1 rank x 1 thread on this 2-core host, samples/s from summary.json
# (global: all ranks' samples / training seconds). Bar: >= 1.95x (the limit is 2.0x). Also: 2 ranks x 64
# (the same global batch as one rank), and peak RSS per rank (GNU time) for 1 and 2 ranks.
# The 1-rank run is `strike-worker train` alone (what `strike train --ranks 1` runs); the 2-rank runs are
# `mpirun -np 2 --oversubscribe strike-worker train` (what `strike train --ranks 2` runs: Open MPI binds
# each rank to one core), each rank under /usr/bin/time. The variants run back to back, REPEATS times
# (default 3), each repeat in the same order; the figure is the median over repeats of each variant. The
# machine is shared: each run waits for idle CPUs and is retried (TRIES, default 3) while other processes
# took >= 5% of the CPUs during it (from /proc/stat minus the ranks' own CPU time).
# Usage: bench/run_scaling_bench.sh [BUILD_DIR]; env STEPS (default 300), REPEATS (default 2).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="$(cd "${1:-$here/../build}" && pwd)"
source "$here/results_section.sh"
idx="${STRIKE_FASHION_MNIST_DIR:-/usr/share/datasets/fashion-mnist}"
steps="${STEPS:-300}"; repeats="${REPEATS:-3}"
work="$(mktemp -d /tmp/strike_scaling_bench.XXXXXX)"; trap 'rm -rf "$work"' EXIT
ninja -C "$build" -j2 strike strike-worker >/dev/null
"$build/bin/strike" data convert --input "$idx" --output "$work/fmnist" >/dev/null
cat "$work"/fmnist/*.h5 >/dev/null
mpirun_args=(-np 2 --oversubscribe)
[ "$(id -u)" = 0 ] && mpirun_args+=(--allow-run-as-root)
train_args=(train --data "$work/fmnist" --epochs 1 --max-steps-per-epoch "$steps" --threads 1 --no-test
            --progress none --log-level warn)

sps() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['samples_per_sec'])" "$1/summary.json"; }
rss() { awk -F': ' '/Maximum resident set size/ {print $2}' "$1"; }
cpu() { awk -F': ' '/Percent of CPU this job got/ {print $2}' "$1"; }

# attempt NAME RANKS BATCH: one training run; prints "samples/s rss0 rss1 cpu0 cpu1 foreign% load_before load_after"
attempt() {
  local name="$1" ranks="$2" batch="$3" out="$work/run-$1" before busy0 t0 busy1 t1
  rm -rf "$out" "$out".time.*; wait_for_idle
  before="$(load_average | tr ' ' '/')"; busy0="$(cpu_busy_seconds)"; t0="$(date +%s.%N)"
  if [ "$ranks" = 1 ]; then
    /usr/bin/time -v -o "$out.time.0" "$build/bin/strike-worker" "${train_args[@]}" --output "$out" --batch-size "$batch"
  else
    mpirun "${mpirun_args[@]}" /bin/sh -c 'exec /usr/bin/time -v -o "$0.$OMPI_COMM_WORLD_RANK" "$@"' "$out.time" \
      "$build/bin/strike-worker" "${train_args[@]}" --output "$out" --batch-size "$batch"
  fi
  busy1="$(cpu_busy_seconds)"; t1="$(date +%s.%N)"
  local last="$out.time.$((ranks - 1))"
  echo "$(sps "$out") $(rss "$out.time.0") $(rss "$last") $(cpu "$out.time.0") $(cpu "$last")" \
    "$(foreign_percent "$busy0" "$busy1" "$(time_cpu_seconds "$out".time.*)" "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')")" \
    "$before $(load_average | tr ' ' '/')"
}
# run NAME RANKS BATCH: up to $TRIES attempts (default 3) until other processes took < 5% of the CPUs
# during one; keeps the cleanest attempt and appends "NAME <attempt's fields> tries" to $work/runs.
run() {
  local best="" line try
  for try in $(seq "${TRIES:-3}"); do
    line="$(attempt "$@")"
    echo "  $1 try $try: $line" >&2
    if [ -z "$best" ] || awk -v a="$(echo "$line" | cut -d' ' -f6)" -v b="$(echo "$best" | cut -d' ' -f6)" 'BEGIN{exit !(a < b)}'; then
      best="$line"
    fi
    awk -v a="$(echo "$best" | cut -d' ' -f6)" 'BEGIN{exit !(a < 5)}' && break
  done
  echo "$1 $best $try" >>"$work/runs"
}
for r in $(seq "$repeats"); do
  run 1r 1 128
  run 2r 2 128
  run 2r64 2 64
done

med() {  # med NAME COLUMN: median of a column over the repeats of one variant
  awk -v n="$1" -v c="$2" '$1 == n {print $c}' "$work/runs" | sort -g |
    awk '{v[NR]=$1} END {print (NR % 2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'
}
loads() { awk '{print $1 " " $8 "→" $9 " (others " $7 "%)"}' "$work/runs" | tr '/' ' ' | paste -sd ';' | sed 's/;/; /g'; }
s1="$(med 1r 2)"; s2="$(med 2r 2)"; s64="$(med 2r64 2)"
ratio="$(awk -v a="$s2" -v b="$s1" 'BEGIN{printf "%.2f", a/b}')"
ratio64="$(awk -v a="$s64" -v b="$s1" 'BEGIN{printf "%.2f", a/b}')"
rss1="$(med 1r 3)"; rss2a="$(med 2r 3)"; rss2b="$(med 2r 4)"
per_run_ratios="$(awk '$1=="1r"{a=$2} $1=="2r"{printf "%s%.2f", (n++?", ":""), $2/a}' "$work/runs")"
verdict="$(awk -v r="$ratio" 'BEGIN{print (r >= 1.95 ? "met" : "not met")}')"

echo
echo "variant  samples/s  rss_rank0_KiB  rss_rank1_KiB  cpu%_rank0  cpu%_rank1  others%  load_before  load_after  tries"
column -t "$work/runs"
echo
printf '%-34s %10s\n' "1 rank x 1 thread, batch 128" "$s1"
printf '%-34s %10s  %s× (bar 1.95×: %s; per repeat: %s)\n' "2 ranks x 1 thread, batch 128/rank" "$s2" "$ratio" "$verdict" "$per_run_ratios"
printf '%-34s %10s  %s×\n' "2 ranks x 1 thread, batch 64/rank" "$s64" "$ratio64"
echo "peak RSS: 1 rank $rss1 KiB; 2 ranks: rank 0 $rss2a KiB, rank 1 $rss2b KiB"

section="$work/section.md"
day="$(date +%F)"
{
  echo "## Scaling (bench/run_scaling_bench.sh, $day)"
  echo
  echo "small_cnn on Fashion-MNIST, default flags (AdamW, cosine, batch 128 per rank), \`--threads 1\`, 1 epoch of"
  echo "$steps steps per rank, strike at commit $(git -C "$here/.." rev-parse --short HEAD), samples/s (all ranks) from summary.json. 1 rank: \`strike-worker train\` alone; 2 ranks:"
  echo "\`mpirun -np 2 --oversubscribe strike-worker train\` (as \`strike train --ranks 2\`; one core per rank), each"
  echo "process under GNU time. Median of $repeats repeat(s) run back to back (1 rank, 2 ranks, 2 ranks × 64)."
  echo "Each run waits for idle CPUs and is retried (up to 3 times) while other users' processes took ≥ 5% of the"
  echo "CPUs during it; the cleanest try is kept. Load averages (1/5/15 min) before→after each kept run and the"
  echo "share of the CPUs others took: $(loads). Bar: 2 ranks ≥ 1.95× 1 rank."
  echo
  echo "| figure | reference | ratio | machine | date |"
  echo "|---|---|---|---|---|"
  echo "| 2 ranks × 1 thread, batch 128 per rank: $(printf '%.0f' "$s2") samples/s (per repeat: $per_run_ratios×) | 1 rank × 1 thread, batch 128: $(printf '%.0f' "$s1") samples/s | ${ratio}× (bar 1.95×: $verdict) | 2-core Debian 12 CPU | $day |"
  echo "| 2 ranks × 1 thread, batch 64 per rank (same global batch): $(printf '%.0f' "$s64") samples/s | 1 rank × 1 thread, batch 128: $(printf '%.0f' "$s1") samples/s | ${ratio64}× | 2-core Debian 12 CPU | $day |"
  echo "| peak RSS per rank, 2 ranks: rank 0 $rss2a KiB, rank 1 $rss2b KiB | 1 rank: $rss1 KiB | $(awk -v a="$rss2a" -v b="$rss1" 'BEGIN{printf "%+.1f%%", 100*(a-b)/b}') | 2-core Debian 12 CPU | $day |"
} >"$section"
replace_results_section "$here/RESULTS.md" "## Scaling" "$section"
echo "updated $here/RESULTS.md"

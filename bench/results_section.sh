# shellcheck shell=bash
# Sourced by bench/run_*.sh: helpers shared by the benchmark scripts.
#
#   replace_results_section RESULTS_MD HEADING_PREFIX SECTION_FILE
#     Removes the section of RESULTS_MD whose "## " heading starts with HEADING_PREFIX (up to the next
#     "## " heading), then appends SECTION_FILE (which starts with its own heading). Other sections stay
#     byte for byte as they were.
#   load_average   prints the 1/5/15-minute load averages, e.g. "1.02 0.87 0.95"

replace_results_section() {
  local results="$1" heading="$2" section="$3" tmp
  tmp="$(mktemp "$results.XXXXXX")"
  awk -v h="$heading" '
    index($0, h) == 1 { skip = 1; next }
    skip && /^## / { skip = 0 }
    !skip { lines[++n] = $0 }
    END { while (n > 0 && lines[n] == "") n--; for (i = 1; i <= n; i++) print lines[i] }
  ' "$results" >"$tmp"
  { echo; cat "$section"; } >>"$tmp"
  mv "$tmp" "$results"
}

load_average() { cut -d' ' -f1-3 /proc/loadavg; }

# wait_for_idle [SECONDS]: on a machine shared with other users' builds and runs, waits (up to SECONDS,
# default $IDLE_WAIT or 600) until the CPUs were at least 85% idle over 3 s, so that a figure is not
# mostly someone else's load. Prints how long it waited and the idle share it saw.
wait_for_idle() {
  local limit="${1:-${IDLE_WAIT:-600}}" start=$SECONDS idle
  while :; do
    idle="$(idle_percent 3)"
    if [ "$idle" -ge 85 ] || [ $((SECONDS - start)) -ge "$limit" ]; then break; fi
  done
  echo "waited $((SECONDS - start)) s for idle CPUs (idle ${idle}% over 3 s; load $(load_average))" >&2
}

# idle_percent SECONDS: share of CPU time spent idle over the next SECONDS, from /proc/stat.
idle_percent() {
  local a b
  a=($(head -n 1 /proc/stat)); sleep "$1"; b=($(head -n 1 /proc/stat))
  awk -v u="$((b[1] - a[1] + b[2] - a[2] + b[3] - a[3] + b[6] - a[6] + b[7] - a[7] + b[8] - a[8]))" \
      -v i="$((b[4] - a[4] + b[5] - a[5]))" 'BEGIN { printf "%d", (u + i > 0 ? 100 * i / (u + i) : 100) }'
}

# cpu_busy_seconds: CPU seconds this machine has spent busy since boot (all CPUs; user, nice, system, irq,
# softirq, and steal, which another virtual machine took from this one).
cpu_busy_seconds() {
  awk -v hz="$(getconf CLK_TCK)" '/^cpu / {printf "%.2f", ($2 + $3 + $4 + $7 + $8 + $9) / hz}' /proc/stat
}

# time_cpu_seconds FILE...: user + system seconds summed over GNU `time -v` reports.
time_cpu_seconds() {
  awk -F': ' '/User time \(seconds\)|System time \(seconds\)/ {s += $2} END {printf "%.2f", s}' "$@"
}

# foreign_percent BUSY_BEFORE BUSY_AFTER OWN_CPU_SECONDS WALL_SECONDS: the share (%) of all CPUs that
# something other than the measured processes used (or the hypervisor stole) during a run.
foreign_percent() {
  awk -v a="$1" -v b="$2" -v own="$3" -v wall="$4" -v n="$(nproc)" \
    'BEGIN { f = (b - a - own) / (wall * n) * 100; printf "%.1f", (f < 0 ? 0 : f) }'
}

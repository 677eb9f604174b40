#!/usr/bin/env bash
# Slow network (issue 3, "Across nodes"): small_cnn training on 2 ranks across the two network-namespace
# test hosts of tests/e2e/netns_hosts.sh (TCP over a bridge) against the same 2 ranks over shared memory
# on one host, with three gradient-sync settings:
#   per-parameter  --bucket-mb 0.0001 --first-bucket-mb 0.0001: one all-reduce per parameter (approximates
#                  the naive per-parameter path, though started from the gradient hooks during backward)
#   default        25 MiB buckets, 1 MiB first
#   bf16           default buckets, --grad-compression bf16
# and three transports: shm (both ranks on one host), tcp (one rank per test host; veth pairs on a bridge,
# about 1 GB/s: not slow) and tcp-1gbit (the same with the hosts' links shaped by `tc qdisc tbf` to
# $NET_RATE, default 1gbit: a slow network). samples/s (all ranks) from summary.json; ratio = TCP /
# shared memory for the same setting. All runs use the netns Open MPI options (pml ob1, btl
# self,vader,tcp, --bind-to none), so only the transport differs.
# Skips (exit 77) where network namespaces are not available (not root, no iproute2, ...).
# Usage: bench/run_network_bench.sh [BUILD_DIR]; env STEPS (default 300), NET_RATE (default 1gbit), TRIES.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="$(cd "${1:-$here/../build}" && pwd)"
source "$here/results_section.sh"
source "$here/../tests/e2e/netns_hosts.sh"
netns_available || { echo "skip: $NETNS_SKIP_REASON"; exit 77; }
idx="${STRIKE_FASHION_MNIST_DIR:-/usr/share/datasets/fashion-mnist}"
steps="${STEPS:-300}"; rate="${NET_RATE:-1gbit}"
work="$(mktemp -d /tmp/strike_network_bench.XXXXXX)"
NETNS_KEEP_TRAPS=1
trap 'netns_down; rm -rf "$work"' EXIT
trap 'exit 130' INT; trap 'exit 143' TERM
ninja -C "$build" -j2 strike strike-worker >/dev/null
"$build/bin/strike" data convert --input "$idx" --output "$work/fmnist" >/dev/null
cat "$work"/fmnist/*.h5 >/dev/null
netns_up || { echo "netns_up failed"; exit 1; }
# The same Open MPI options on one host, minus the hostfile and the agent.
shm_args=(-np 2 --mca pml ob1 --mca btl self,vader,tcp --mca osc ^ucx --bind-to none --oversubscribe)
[ "$(id -u)" = 0 ] && shm_args+=(--allow-run-as-root)
train_args=(train --data "$work/fmnist" --epochs 1 --max-steps-per-epoch "$steps" --threads 1 --no-test
            --progress none --log-level warn)
declare -A sync_args=(
  [per-parameter]="--bucket-mb 0.0001 --first-bucket-mb 0.0001"
  [default]=""
  [bf16]="--grad-compression bf16"
)
settings=(per-parameter default bf16)
transports=(shm tcp tcp-1gbit)

shape() {  # shape on|off: token-bucket rate limit on both test hosts' links
  local h
  for h in "$NETNS_HOST1" "$NETNS_HOST2"; do
    if [ "$1" = on ]; then
      ip netns exec "$h" tc qdisc replace dev eth0 root tbf rate "$rate" burst 128kb latency 20ms
    else
      ip netns exec "$h" tc qdisc del dev eth0 root 2>/dev/null || true
    fi
  done
}

sps() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['samples_per_sec'])" "$1/summary.json"; }
# attempt SETTING TRANSPORT: one run, each rank under GNU time; prints "samples/s others% load_before load_after"
attempt() {
  local setting="$1" transport="$2" out="$work/run-$1-$2" before busy0 t0 busy1 t1
  # shellcheck disable=SC2206
  local extra=(${sync_args[$setting]})
  local ranks=(/bin/sh -c 'exec /usr/bin/time -v -o "$0.$OMPI_COMM_WORLD_RANK" "$@"' "$out.time"
               "$build/bin/strike-worker" "${train_args[@]}" --output "$out" "${extra[@]}")
  rm -rf "$out" "$out".time.*; wait_for_idle
  before="$(load_average | tr ' ' '/')"; busy0="$(cpu_busy_seconds)"; t0="$(date +%s.%N)"
  if [ "$transport" != shm ]; then
    [ "$transport" = tcp-1gbit ] && shape on
    netns_mpirun -np 2 "${ranks[@]}"
    shape off
  else
    mpirun "${shm_args[@]}" "${ranks[@]}"
  fi
  busy1="$(cpu_busy_seconds)"; t1="$(date +%s.%N)"
  echo "$(sps "$out") $(foreign_percent "$busy0" "$busy1" "$(time_cpu_seconds "$out".time.*)" \
    "$(awk -v a="$t0" -v b="$t1" 'BEGIN{print b-a}')") $before $(load_average | tr ' ' '/')"
}
# run SETTING TRANSPORT: up to $TRIES attempts (default 3) until other processes took < 5% of the CPUs
# during one; keeps the cleanest and appends "SETTING TRANSPORT samples/s others% load_before load_after".
run() {
  local best="" line try
  for try in $(seq "${TRIES:-3}"); do
    line="$(attempt "$@")"
    echo "  $1 $2 try $try: $line" >&2
    if [ -z "$best" ] || awk -v a="$(echo "$line" | cut -d' ' -f2)" -v b="$(echo "$best" | cut -d' ' -f2)" 'BEGIN{exit !(a < b)}'; then
      best="$line"
    fi
    awk -v a="$(echo "$best" | cut -d' ' -f2)" 'BEGIN{exit !(a < 5)}' && break
  done
  echo "$1 $2 $best" >>"$work/runs"
}
for s in "${settings[@]}"; do
  for t in "${transports[@]}"; do run "$s" "$t"; done
done

get() { awk -v s="$1" -v t="$2" '$1 == s && $2 == t {print $3}' "$work/runs"; }
loads() { awk -v s="$1" -v t="$2" '$1 == s && $2 == t {print $5 "→" $6 ", others " $4 "%"}' "$work/runs" | tr '/' ' '; }
echo
echo "setting         shm samples/s   TCP samples/s   TCP/shm   TCP $rate samples/s   /shm"
for s in "${settings[@]}"; do
  awk -v s="$s" -v a="$(get "$s" shm)" -v b="$(get "$s" tcp)" -v c="$(get "$s" tcp-1gbit)" \
    'BEGIN{printf "%-15s %13.0f %15.0f %9.2f %21.0f %6.2f\n", s, a, b, b/a, c, c/a}'
done
echo "(issue 3's reference point, another build: naive per-parameter blocking all-reduce ~900 samples/s across the hosts vs ~2160 over shared memory)"

section="$work/section.md"
day="$(date +%F)"
{
  echo "## Slow network (bench/run_network_bench.sh, $day)"
  echo
  echo "small_cnn on Fashion-MNIST, default flags, batch 128 per rank, \`--threads 1\`, 2 ranks, $steps steps, strike"
  echo "at commit $(git -C "$here/.." rev-parse --short HEAD) (buckets reduced with blocking MPI_Allreduce as they fill),"
  echo "samples/s (all ranks) from summary.json. TCP: one rank on each of the two network-namespace test hosts"
  echo "(tests/e2e/netns_hosts.sh, veth pairs on a bridge, about 1 GB/s for a 4 MiB all-reduce: not a slow"
  echo "network); TCP $rate: the same with both hosts' links shaped by \`tc qdisc tbf rate $rate\`. Reference:"
  echo "the same two ranks over shared memory on one host, run right before, with the same Open MPI options"
  echo "(pml ob1, btl self,vader,tcp, --bind-to none). per-parameter = \`--bucket-mb 0.0001 --first-bucket-mb"
  echo "0.0001\` (one all-reduce per parameter, from the gradient hooks); default = 25 MiB buckets,"
  echo "1 MiB first; bf16 = \`--grad-compression bf16\`. small_cnn's gradients are 3.4 MB (fc: 3.2 MB), i.e. 2"
  echo "buckets by default. Issue 3's reference point (naive blocking per-parameter all-reduce, another build):"
  echo "~900 samples/s across the hosts vs ~2160 over shared memory (0.42×). Each run waits for idle CPUs and"
  echo "is retried (up to 3 times) while other users' processes took ≥ 5% of the CPUs; load: before→after."
  echo
  echo "| figure | reference | ratio | machine | date |"
  echo "|---|---|---|---|---|"
  for s in "${settings[@]}"; do
    a="$(get "$s" shm)"
    for t in tcp tcp-1gbit; do
      b="$(get "$s" "$t")"
      label="TCP across the test hosts"; [ "$t" = tcp-1gbit ] && label="TCP across the test hosts, links at $rate"
      printf '| %s, %s: %.0f samples/s (load %s) | %s, shared memory: %.0f samples/s (load %s) | %s× | 2-core Debian 12 CPU | %s |\n' \
        "$s" "$label" "$b" "$(loads "$s" "$t")" "$s" "$a" "$(loads "$s" shm)" "$(awk -v a="$a" -v b="$b" 'BEGIN{printf "%.2f", b/a}')" "$day"
    done
  done
} >"$section"
replace_results_section "$here/RESULTS.md" "## Slow network" "$section"
echo "updated $here/RESULTS.md"

#!/usr/bin/env bash
# Small-model step rate: a tabular MLP (16 -> 64 -> 64 -> 3, batch 64) trained by strike's pieces
# (bench/mlp_step_bench.cpp) against the same loop in Python PyTorch 1.13 (bench/mlp_reference.py),
# AdamW and SGD with momentum, one thread each, measured in the same run. The two programs alternate
# for ROUNDS rounds and each figure is the median over the rounds, so load from other work on the
# machine falls on both alike; the load average is recorded before and after.
# Usage: bench/run_mlp_bench.sh [BUILD_DIR]  (env: STEPS=10000 WARMUP=500 ROUNDS=3)
# Prints the result table (the section for bench/RESULTS.md) on stdout.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="$(cd "${1:-$here/../build}" && pwd)"
python=/usr/bin/python3  # Debian's interpreter with python3-torch
steps="${STEPS:-10000}"; warmup="${WARMUP:-500}"; rounds="${ROUNDS:-3}"
bench="$build/bin/strike_mlp_step_bench"
[[ -x "$bench" ]] || { echo "build strike_mlp_step_bench first (ninja -C $build strike_mlp_step_bench)" >&2; exit 1; }
work="$(mktemp -d /tmp/strike_mlp_bench.XXXXXX)"; trap 'rm -rf "$work"' EXIT

load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
for ((r = 1; r <= rounds; ++r)); do
  echo "round $r/$rounds" >&2
  "$python" "$here/mlp_reference.py" "$steps" "$warmup" adamw sgd | sed 's/^/python-/' >> "$work/rates"
  "$bench" "$steps" "$warmup" >> "$work/rates"
done
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"
"$bench" --breakdown "$steps" "$warmup" libtorch-adamw strike-adamw > "$work/breakdown"

median() {  # median steps/s of one variant over the rounds
  awk -v v="$1" '$1 == v {print $2}' "$work/rates" | sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }

machine="$(nproc)-core $(. /etc/os-release && echo "$PRETTY_NAME") CPU"
day="$(date +%F)"
rows=()
for opt in adamw sgd; do
  ref="$(median "python-$opt")"
  label="$([[ $opt == adamw ]] && echo AdamW || echo "SGD momentum 0.9")"
  for kind in strike flat libtorch; do
    rate="$(median "$kind-$opt")"
    case "$kind" in
      strike) what="strike step (trainer's pieces: ImageClassifier + mlp backbone via linear_stack, fused cross-entropy/metrics, FlatParameters, fused $label)";;
      flat) what="LibTorch nn::Linear + F::cross_entropy, strike FlatParameters + fused $label";;
      libtorch) what="LibTorch nn::Linear + F::cross_entropy + torch::optim ($label)";;
    esac
    rows+=("$(printf '| %s: %.0f steps/s | Python PyTorch 1.13 loop, %s: %.0f steps/s | %s× | %s | %s |' \
      "$what" "$rate" "$label" "$ref" "$(ratio "$rate" "$ref")" "$machine" "$day")")
  done
done

echo
echo "## Small-model step rate (bench/run_mlp_bench.sh, $day)"
echo
echo "MLP 16 → 64 → 64 → 3 (ReLU), cross-entropy, batch 64 from a pool of 16 pre-generated batches, 1 thread,"
echo "$warmup warm-up steps then $steps timed; median of $rounds alternating rounds of the C++ bench and the Python"
echo "reference. Load average before/after: $load_before / $load_after (the machine is shared)."
echo
echo "| figure | reference | ratio | machine | date |"
echo "|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
echo
echo "Per-step time by phase (µs, one run, \`strike_mlp_step_bench --breakdown\`):"
echo
echo '```'
cat "$work/breakdown"
echo '```'

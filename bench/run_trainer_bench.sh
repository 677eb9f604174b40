#!/usr/bin/env bash
# Trainer benchmark: strike's training samples/s for small_cnn on Fashion-MNIST against a plain
# PyTorch 1.13 loop (bench/trainer_reference.py) with the same model, batch size and threads, in one run.
# Usage: bench/run_trainer_bench.sh [BUILD_DIR]; prints a table and appends it to bench/RESULTS.md.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="$(cd "${1:-$here/../build}" && pwd)"
idx="${STRIKE_FASHION_MNIST_DIR:-/usr/share/datasets/fashion-mnist}"
work="$(mktemp -d /tmp/strike_trainer_bench.XXXXXX)"; trap 'rm -rf "$work"' EXIT
python=/usr/bin/python3  # Debian's interpreter with python3-torch
batch=128; steps=400

"$build/bin/strike" data convert --input "$idx" --output "$work/fmnist" >/dev/null
cat "$work"/fmnist/*.h5 >/dev/null
rows=()
for threads in 1 2; do
  "$build/bin/strike-worker" train --data "$work/fmnist" --output "$work/run-$threads" --epochs 1 \
    --max-steps-per-epoch "$steps" --batch-size "$batch" --threads "$threads" --no-test --progress none \
    --log-level warn
  strike_sps="$("$python" -c "import json,sys; print(json.load(open(sys.argv[1]))['samples_per_sec'])" "$work/run-$threads/summary.json")"
  ref_sps="$("$python" "$here/trainer_reference.py" --idx "$idx" --threads "$threads" --batch-size "$batch" --steps "$steps" | awk '{print $2}')"
  ratio="$(awk -v a="$strike_sps" -v b="$ref_sps" 'BEGIN{printf "%.2f", a/b}')"
  printf 'threads %d: strike %.0f samples/s, PyTorch loop %.0f samples/s, ratio %s\n' "$threads" "$strike_sps" "$ref_sps" "$ratio"
  rows+=("$(printf '| strike train, small_cnn, batch %d, %d thread(s): %.0f samples/s | plain PyTorch 1.13 loop, same model/batch/threads: %.0f samples/s | %s× | 2-core Debian 12 CPU | %s |' \
    "$batch" "$threads" "$strike_sps" "$ref_sps" "$ratio" "$(date +%F)")")
done

{
  echo
  echo "## Trainer throughput (bench/run_trainer_bench.sh, $(date +%F))"
  echo
  echo "small_cnn on Fashion-MNIST, batch $batch, AdamW, $steps steps. strike: \`strike-worker train\` end to end"
  echo "(HDF5 loader, prefetch thread, metrics, progress), samples/s from summary.json, first steps included."
  echo "Reference: a plain Python loop over in-memory tensors (no loader), the same layers, 20 warm-up steps excluded."
  echo
  echo "| figure | reference | ratio | machine | date |"
  echo "|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
} >> "$here/RESULTS.md"

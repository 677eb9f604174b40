#!/usr/bin/env bash
# Memory benchmark: peak RSS of a training run on Fashion-MNIST at 1x and 10x the data (the loader must
# hold its window and queue, not the data set), and the quickstart's peak RSS. Appends to bench/RESULTS.md.
# Usage: bench/run_memory_bench.sh [BUILD_DIR]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="$(cd "${1:-$here/../build}" && pwd)"
idx="${STRIKE_FASHION_MNIST_DIR:-/usr/share/datasets/fashion-mnist}"
work="$(mktemp -d /tmp/strike_memory_bench.XXXXXX)"; trap 'rm -rf "$work"' EXIT
steps=300

peak_kib() { /usr/bin/time -f '%M %e' -o "$work/rss" "$@" >/dev/null 2>&1; awk '{print $1}' "$work/rss"; }

"$build/bin/strike_loader_bench" --mode convert --data "$work/x1" --idx "$idx" >/dev/null
"$build/bin/strike_loader_bench" --mode convert --data "$work/x10" --idx "$idx" --scale 10 >/dev/null
train() {
  peak_kib "$build/bin/strike-worker" train --data "$1" --output "$work/run-$(basename "$1")" --epochs 1 \
    --max-steps-per-epoch "$steps" --monitor train_loss --progress none --log-level warn
}
rss1="$(train "$work/x1")"
rss10="$(train "$work/x10")"
growth="$(awk -v a="$rss1" -v b="$rss10" 'BEGIN{printf "%+.1f%%", 100*(b-a)/a}')"
qs="$(cd "$work" && peak_kib "$build/bin/strike" quickstart --workdir "$work/qs")"
qs_seconds="$(awk '{print $2}' "$work/rss")"
qs_acc="$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['test_top1'])" "$work/qs/run/test_metrics.json")"
echo "training peak RSS: 1x data $rss1 KiB, 10x data $rss10 KiB ($growth); quickstart peak RSS $qs KiB, $qs_seconds s, test accuracy $qs_acc"

{
  echo
  echo "## Memory (bench/run_memory_bench.sh, $(date +%F))"
  echo
  echo "Peak RSS (GNU time) of \`strike-worker train\`, small_cnn, $steps steps, on Fashion-MNIST train"
  echo "(60,000 images, 47 MB) and on the same repeated 10x (600,000 images, 470 MB); bar: growth < 10%."
  echo "Quickstart: peak RSS of the largest process of \`strike quickstart\` (bar: < 1.5 GB), and its wall time (bar: 5 min)."
  echo
  echo "| figure | reference | ratio | machine | date |"
  echo "|---|---|---|---|---|"
  echo "| training peak RSS, 10x data: $rss10 KiB | 1x data: $rss1 KiB | $growth | 2-core Debian 12 CPU | $(date +%F) |"
  echo "| quickstart peak RSS: $qs KiB | bar: 1572864 KiB (1.5 GB) | $(awk -v a="$qs" 'BEGIN{printf "%.2f", a/1572864}')× | 2-core Debian 12 CPU | $(date +%F) |"
  echo "| quickstart wall time: $qs_seconds s (test accuracy $qs_acc) | bar: 300 s (and accuracy >= 0.90) | $(awk -v a="$qs_seconds" 'BEGIN{printf "%.2f", a/300}')× | 2-core Debian 12 CPU | $(date +%F) |"
} >> "$here/RESULTS.md"

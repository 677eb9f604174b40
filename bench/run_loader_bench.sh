#!/usr/bin/env bash
# Loader benchmark: strike's loader vs torchvision FashionMNIST + DataLoader in one run, plus the
# loader's peak RSS at 1x and 10x data; appends the figures to bench/RESULTS.md.
# Usage: bench/run_loader_bench.sh [BUILD_DIR] [WORK_DIR]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${1:-$here/../build}"
work="${2:-$(mktemp -d /tmp/strike_loader_bench.XXXXXX)}"
bench="$build/bin/strike_loader_bench"
idx="${STRIKE_FMNIST_IDX:-/usr/share/datasets/fashion-mnist}"
python=/usr/bin/python3  # the interpreter with torch and torchvision

"$bench" --mode convert --data "$work/fmnist" --idx "$idx"
"$bench" --mode convert --data "$work/fmnist_x10" --idx "$idx" --scale 10
cat "$work"/fmnist/*.h5 "$work"/fmnist_x10/*.h5 > /dev/null  # warm page cache

read -r mean std < <("$python" -c "import json,sys; m=json.load(open(sys.argv[1]))['statistics']; print(m['mean'][0], m['std'][0])" "$work/fmnist/manifest.json")

strike_out="$("$bench" --mode throughput --data "$work/fmnist" --epochs 10)"
ref_out="$("$python" "$here/loader_reference.py" --idx "$idx" --root "$work/tv" --mean "$mean" --std "$std" --epochs 2)"
rss1="$("$bench" --mode rss --data "$work/fmnist" --epochs 1 | awk '{print $2}')"
rss10="$("$bench" --mode rss --data "$work/fmnist_x10" --epochs 1 | awk '{print $2}')"

norm="$(awk '/strike_normalized/{print $2}' <<<"$strike_out")"
raw="$(awk '/strike_uint8/{print $2}' <<<"$strike_out")"
ref="$(awk '{print $2}' <<<"$ref_out")"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.1f", a/b}'; }
growth="$(awk -v a="$rss1" -v b="$rss10" 'BEGIN{printf "%.1f", 100*(b-a)/a}')"

printf 'strike loader (normalized float32): %.0f samples/s\n' "$norm"
printf 'strike loader (raw uint8):          %.0f samples/s\n' "$raw"
printf 'torchvision FashionMNIST+DataLoader: %.0f samples/s\n' "$ref"
echo "ratio normalized: $(ratio "$norm" "$ref")x, raw: $(ratio "$raw" "$ref")x"
echo "loader peak RSS: ${rss1} KiB (1x), ${rss10} KiB (10x), growth ${growth}%"

results="$here/RESULTS.md"
if [ ! -f "$results" ]; then
  printf '# Benchmark results\n\nEvery figure is a ratio against a reference measured in the same run.\n' > "$results"
fi
date_str="${STRIKE_BENCH_DATE:-$(date +%F)}"
machine="${STRIKE_BENCH_MACHINE:-$(nproc)-core $(. /etc/os-release && echo "$NAME $VERSION_ID") CPU}"
cat >> "$results" <<MD

## Data loader (bench/run_loader_bench.sh)

Fashion-MNIST train (60,000 × 28×28 uint8), batch 256, shuffle, no augmentation, one loader thread,
warm page cache. Reference: torchvision \`FashionMNIST\` + \`DataLoader(num_workers=0)\` with
ToTensor + Normalize. Memory: peak RSS of the loader process at 1× and 10× the data.

| figure | reference | ratio | machine | date |
|---|---|---|---|---|
| strike loader, normalized float32: $(printf '%.0f' "$norm") samples/s | torchvision: $(printf '%.0f' "$ref") samples/s | $(ratio "$norm" "$ref")× | $machine | $date_str |
| strike loader, raw uint8: $(printf '%.0f' "$raw") samples/s | torchvision: $(printf '%.0f' "$ref") samples/s | $(ratio "$raw" "$ref")× | $machine | $date_str |
| loader peak RSS, 10× data: ${rss10} KiB | 1× data: ${rss1} KiB | +${growth}% | $machine | $date_str |
MD

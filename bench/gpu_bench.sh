#!/usr/bin/env bash
# GPU training throughput, strike against plain PyTorch eager and Lightning in the same call on the same GPU
# (see ../shared/GPU.md for the machine). Synthetic data: on the GPU for strike and eager, from a DataLoader
# with 8 workers for Lightning. Usage: bench/gpu_bench.sh BIN_DIR [model=resnet50] [size=224] [batch=256]
#   [steps=30] [warmup=10] [precision=bf16-mixed] [lightning=yes]; prints "model, input | images/s | ratio" rows.
# strike is measured twice: eager steps (strike_gpu_bench) and one CUDA graph per step (strike_gpu_graph_bench).
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
bin="$1"; shift
model="${1:-resnet50}"; size="${2:-224}"; batch="${3:-256}"; steps="${4:-30}"; warmup="${5:-10}"
precision="${6:-bf16-mixed}"; with_lightning="${7:-yes}"
params=("$model" "$size" "$batch" "$steps" "$warmup" "$precision")

result() { grep -E '^RESULT ' | tail -1 | awk '{print $3}'; }
strike=$("$bin/strike_gpu_bench" "${params[@]}" 2>&1 | tee /dev/stderr | result)
graph=""
[ -x "$bin/strike_gpu_graph_bench" ] && graph=$("$bin/strike_gpu_graph_bench" "${params[@]}" 2>&1 | tee /dev/stderr | result)
eager=$(python3 "$here/gpu_reference.py" eager "${params[@]}" 2>&1 | tee /dev/stderr | result)
eager_bench=$(python3 "$here/gpu_reference.py" eager-cudnn-benchmark "${params[@]}" 2>&1 | tee /dev/stderr | result)
lightning=""
[ "$with_lightning" = yes ] && lightning=$(python3 "$here/gpu_reference.py" lightning "${params[@]}" 2>/dev/null | result)

ratio() { python3 -c "import sys; a, b = sys.argv[1:]; print(f'{float(a) / float(b):.2f}x' if a and b else 'n/a')" "$1" "$2"; }
echo "$model ${size}px $precision batch $batch, images/s ($steps steps after $warmup warm-up)"
printf '  %-34s %8s   vs eager: %s\n' "strike (C++, eager steps)" "${strike:-FAILED}" "$(ratio "$strike" "$eager")"
printf '  %-34s %8s   vs eager: %s\n' "strike (C++, CUDA graph per step)" "${graph:-FAILED}" "$(ratio "$graph" "$eager")"
printf '  %-34s %8s\n' "PyTorch eager" "${eager:-FAILED}"
printf '  %-34s %8s   strike eager vs it: %s\n' "PyTorch eager, cudnn.benchmark" "${eager_bench:-FAILED}" "$(ratio "$strike" "$eager_bench")"
[ "$with_lightning" = yes ] &&
  printf '  %-34s %8s   strike eager vs it: %s\n' "Lightning Trainer (8 workers)" "${lightning:-FAILED}" "$(ratio "$strike" "$lightning")"
exit 0

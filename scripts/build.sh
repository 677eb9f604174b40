#!/usr/bin/env bash
# Configures and builds strike into build/ (Release, Ninja); extra arguments go to cmake.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${STRIKE_BUILD_DIR:-$root/build}"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
# Each LibTorch translation unit takes ~1.5 GB to compile; keep parallelism within memory.
jobs="$(nproc)"
ninja -C "$build" -j "$jobs"

#!/usr/bin/env bash
# Sets up, builds and runs `strike quickstart` (Fashion-MNIST: convert, train, evaluate, predict).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/setup.sh"
"$root/scripts/build.sh"
exec "${STRIKE_BUILD_DIR:-$root/build}/bin/strike" quickstart "$@"

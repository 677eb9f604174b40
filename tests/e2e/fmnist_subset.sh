# Sourced by the Fashion-MNIST end-to-end tests: arguments, a scratch directory, and the fixed subset.
# Usage inside a test: `source fmnist_subset.sh "$@"`, then `convert_subset TRAIN TEST [convert flags...]`.
set -euo pipefail
bin="$1"; src="${2:-${STRIKE_FASHION_MNIST_DIR:-/usr/share/datasets/fashion-mnist}}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
[ -d "$src" ] || { echo "SKIP: $src missing"; exit 77; }
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# The first TRAIN training and TEST test images, converted into $work/data.
convert_subset() {
  local train="$1" test="$2"; shift 2
  python3 "$here/make_fmnist_subset.py" "$src" "$work/raw" "$train" "$test"
  "$bin/strike" data convert --input "$work/raw" --output "$work/data" --shards 2 "$@" >/dev/null
}

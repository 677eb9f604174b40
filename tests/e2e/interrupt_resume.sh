#!/usr/bin/env bash
# Ctrl-C and resume: SIGINT mid-epoch makes `strike train` save last.h5 and exit 130; `--resume last`
# then finishes with metrics identical to an uninterrupted run's (CPU, same seed and threads).
source "$(dirname "$0")/fmnist_subset.sh" "$@"
convert_subset 6000 500
args=(--data "$work/data" --epochs 2 --batch-size 32 --seed 11 --threads 1 --augment --progress none)

"$bin/strike" train "${args[@]}" --output "$work/whole" >/dev/null 2>&1 || fail "uninterrupted run"

"$bin/strike" train "${args[@]}" --output "$work/cut" > "$work/cut.log" 2>&1 &
pid=$!
# Interrupt once training has made some progress in the first epoch.
for _ in $(seq 1 200); do
  grep -q "image_classification" "$work/cut.log" 2>/dev/null && break
  sleep 0.05
done
sleep 1.5
kill -INT "$pid"
set +e; wait "$pid"; rc=$?; set -e
[ "$rc" -eq 130 ] || { cat "$work/cut.log"; fail "interrupted run exited $rc, expected 130"; }
grep -q "continue with --resume" "$work/cut.log" || fail "no resume hint"
test -f "$work/cut/checkpoints/last.h5" || fail "no last.h5 after the interrupt"
test ! -f "$work/cut/summary.json" || fail "an interrupted run must not write summary.json"
step="$(python3 -c "import sys,re; print(re.search(r'interrupted at epoch \d+ step (\d+)', open(sys.argv[1]).read()).group(1))" "$work/cut.log")"
echo "interrupted at step $step"

"$bin/strike" train "${args[@]}" --output "$work/cut" --resume last >/dev/null 2>&1 || fail "resumed run"
python3 - "$work" <<'PY' || fail "resumed metrics differ from the uninterrupted run's"
import json, sys
w = sys.argv[1]
a = json.load(open(f"{w}/whole/summary.json"))
b = json.load(open(f"{w}/cut/summary.json"))
assert a["steps"] == b["steps"], (a["steps"], b["steps"])
assert a["metrics"] == b["metrics"], (a["metrics"], b["metrics"])
print("identical:", a["metrics"])
PY
echo "PASS"

#!/usr/bin/env bash
# End to end on a fixed Fashion-MNIST subset: convert, verify, train, eval, predict, resume, h5py.
# Bar: 6,000 training images, 3 epochs of small_cnn reach test accuracy >= 0.80 on the first 1,000 test images.
source "$(dirname "$0")/fmnist_subset.sh" "$@"
convert_subset 6000 1000 --seed 1
"$bin/strike" data verify "$work/data" | grep -q OK || fail "verify"

"$bin/strike" train --data "$work/data" --output "$work/run" --epochs 3 --batch-size 64 --lr 3e-3 \
  --schedule onecycle --seed 3 --threads 2 --progress plain
test -f "$work/run/summary.json" || fail "no summary.json"
test -f "$work/run/checkpoints/best.h5" || fail "no best.h5"
test -f "$work/run/config.yaml" || fail "no config.yaml"
test -f "$work/run/logs/rank-0.log" || fail "no rank log"
rows=$(wc -l < "$work/run/metrics.csv"); [ "$rows" -eq 8 ] || fail "metrics.csv has $rows lines, expected 8"
acc=$(python3 -c "import json;print(json.load(open('$work/run/summary.json'))['metrics']['test_top1'])")
python3 -c "import sys; sys.exit(0 if $acc >= 0.80 else 1)" || fail "test accuracy $acc < 0.80"
echo "test accuracy $acc"

"$bin/strike" eval --checkpoint "$work/run/checkpoints/best.h5" --data "$work/data" --output "$work/eval.json" >/dev/null
python3 - "$work" <<'PY' || fail "eval disagrees with the run's test metrics"
import json, sys
w = sys.argv[1]
s = json.load(open(f"{w}/run/summary.json"))["metrics"]["test_top1"]
e = json.load(open(f"{w}/eval.json"))["test_top1"]
assert abs(s - e) < 1e-9, (s, e)
PY

"$bin/strike" predict --checkpoint "$work/run/checkpoints/best.h5" --data "$work/data" --split test --limit 5 \
  --output "$work/pred.csv"
[ "$(wc -l < "$work/pred.csv")" -eq 6 ] || fail "predict wrote $(wc -l < "$work/pred.csv") lines, expected 6"
"$bin/strike" predict --checkpoint "$work/run/checkpoints/best.h5" --data "$work/data" --limit 3 \
  --kind probabilities --output "$work/pred.json"
python3 -c "
import json; p = json.load(open('$work/pred.json'))
assert len(p['predictions']) == 3 and abs(sum(p['predictions'][0]['probabilities']) - 1) < 1e-4, p" || fail "probabilities"

/usr/bin/python3 "$here/check_checkpoint.py" "$work/run/checkpoints/best.h5" || fail "h5py cannot read the checkpoint"

"$bin/strike" train --data "$work/data" --output "$work/run" --epochs 4 --batch-size 64 --lr 3e-3 \
  --schedule onecycle --seed 3 --threads 2 --progress none --resume last
python3 -c "import json; s=json.load(open('$work/run/summary.json')); assert s['epochs']==4, s" || fail "resume"
echo "PASS"

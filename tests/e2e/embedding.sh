#!/usr/bin/env bash
# image_embedding end to end on a fixed Fashion-MNIST subset: supervised training with val kNN choosing best.h5,
# kNN evaluation (summary.json's and strike eval's agree, on 1 and 2 ranks), `strike embed` read back with h5py,
# a start from a classifier's backbone, simclr, 2 ranks, and the errors.
# Bar: 6,000 training images, 3 epochs of small_cnn (supervised) reach kNN accuracy >= 0.78 on 1,000 test images.
source "$(dirname "$0")/fmnist_subset.sh" "$@"
convert_subset 6000 1000 --seed 1
knn() { /usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['test_knn_top1'])" "$1"; }
at_least() { /usr/bin/python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) >= float(sys.argv[2]) else 1)" "$1" "$2"; }

# summary.json's kNN metrics (train split as neighbours, best.h5) are strike eval's.
same_knn() {
  /usr/bin/python3 - "$1" "$2" <<'PY'
import json, sys
summary, evaluated = json.load(open(sys.argv[1]))["metrics"], json.load(open(sys.argv[2]))
for name in ("test_knn_top1", "test_recall_at_1"):
    assert abs(summary[name] - evaluated[name]) <= 0.002, (name, summary[name], evaluated[name])
PY
}

"$bin/strike" train --data "$work/data" --task image_embedding --output "$work/sup" --epochs 3 --batch-size 64 \
  --lr 3e-3 --optimizer adamw --schedule onecycle --seed 3 --threads 2 --progress none \
  --knn-every 1 --monitor val_knn_top1 > "$work/sup.log" 2>&1 || { tail -20 "$work/sup.log"; fail "supervised training"; }
grep -q '"task": "image_embedding"' "$work/sup/summary.json" || fail "summary.json does not name the task"
"$bin/strike" eval --checkpoint "$work/sup/checkpoints/best.h5" --output "$work/sup.json" > /dev/null || fail "eval"
acc=$(knn "$work/sup.json"); echo "supervised: kNN accuracy $acc"
at_least "$acc" 0.78 || fail "kNN accuracy $acc < 0.78"
same_knn "$work/sup/summary.json" "$work/sup.json" || fail "summary.json's kNN metrics differ from strike eval's"
/usr/bin/python3 - "$work/sup" <<'PY' || fail "val kNN every epoch picks best.h5"
import csv, json, sys
rows = [r for r in csv.DictReader(open(sys.argv[1] + "/metrics.csv")) if r["split"] == "val"]
assert len(rows) == 3 and all(0 < float(r["knn_top1"]) <= 1 for r in rows), rows
s = json.load(open(sys.argv[1] + "/summary.json"))
best = max(float(r["knn_top1"]) for r in rows)
# metrics.csv holds 8 significant digits.
assert s["monitor"] == "val_knn_top1" and abs(s["best_value"] - best) < 1e-6, (s["best_value"], best)
assert abs(s["metrics"]["val_knn_top1"] - float(rows[-1]["knn_top1"])) < 1e-6
PY
grep -q "val knn_top1" "$work/sup/logs/rank-0.log" || fail "the epoch line does not show val knn_top1"
rc=0; out=$("$bin/strike" train --data "$work/data" --task image_embedding --output "$work/bad" --epochs 1 \
  --monitor val_knn_top1 2>&1) || rc=$?
[ "$rc" -eq 2 ] && grep -q -- "--knn-every 1" <<<"$out" || fail "--monitor val_knn_top1 without --knn-every 1 (exit $rc): $out"

"$bin/strike" embed --checkpoint "$work/sup/checkpoints/best.h5" --split test --output "$work/test.h5" > /dev/null ||
  fail "embed"
/usr/bin/python3 - "$work/test.h5" <<'PY' || fail "the embeddings file"
import json, sys
import h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
e, labels, index = f["embeddings"][:], f["label"][:], f["index"][:]
assert e.shape == (1000, 128) and e.dtype == np.float32, e.shape
assert np.allclose(np.linalg.norm(e, axis=1), 1, atol=1e-5)
assert sorted(index.tolist()) == list(range(1000)) and labels.min() == 0 and labels.max() == 9
assert len(json.loads(f.attrs["class_names"])) == 10
PY

# A classifier's backbone starts an embedder: its features are good before the embedder trains a step.
"$bin/strike" train --data "$work/data" --output "$work/cls" --epochs 2 --batch-size 64 --lr 3e-3 --optimizer adamw \
  --seed 3 --threads 2 --progress none > /dev/null 2>&1 || fail "classifier"
"$bin/strike" train --data "$work/data" --task image_embedding --init-backbone "$work/cls/checkpoints/best.h5" \
  --output "$work/init" --epochs 1 --max-steps-per-epoch 5 --batch-size 64 --seed 3 --threads 2 --progress none \
  > "$work/init.log" 2>&1 || { tail -20 "$work/init.log"; fail "--init-backbone"; }
grep -q "backbone: .* tensors from" "$work/init/logs/rank-0.log" || fail "no backbone loaded"
"$bin/strike" eval --checkpoint "$work/init/checkpoints/best.h5" --output "$work/init.json" > /dev/null || fail "eval init"
acc=$(knn "$work/init.json"); echo "from a classifier's backbone, 5 steps: kNN accuracy $acc"
at_least "$acc" 0.70 || fail "kNN accuracy $acc < 0.70 from a trained backbone"

# simclr on 2 ranks: a few steps, finite metrics, kNN reported.
"$bin/strike" train --data "$work/data" --task image_embedding --objective simclr --ranks 2 --output "$work/simclr" \
  --epochs 1 --max-steps-per-epoch 6 --batch-size 32 --seed 3 --progress none > "$work/simclr.log" 2>&1 ||
  { tail -20 "$work/simclr.log"; fail "simclr on 2 ranks"; }
"$bin/strike" eval --checkpoint "$work/simclr/checkpoints/best.h5" --output "$work/simclr.json" > /dev/null ||
  fail "eval simclr"
/usr/bin/python3 -c "import json,math,sys; m=json.load(open(sys.argv[1])); assert math.isfinite(m['test_loss']) and 0 < m['test_knn_top1'] <= 1, m" \
  "$work/simclr.json" || fail "simclr metrics"
# Each rank scored its half of the test split against the train embeddings gathered from both ranks.
same_knn "$work/simclr/summary.json" "$work/simclr.json" || fail "2-rank kNN metrics differ from strike eval's"

rc=0; out=$("$bin/strike" embed --checkpoint "$work/cls/checkpoints/best.h5" --output "$work/x.h5" 2>&1) || rc=$?
[ "$rc" -eq 2 ] && grep -q "not image_embedding" <<<"$out" || fail "embed of a classifier (exit $rc): $out"
[ ! -e "$work/x.h5" ] || fail "a failed embed left a file"
echo "embedding: ok"

#!/usr/bin/env bash
# Palmer penguins end to end: CSV conversion, both tabular backbones on 1 and 2 ranks (bar: test accuracy
# >= 0.97 on the 34-row test split; 1.0 is typical), eval, predict on raw CSV rows (probabilities, an unseen
# island), and the column checks at predict time.
set -uo pipefail
bin="$1"; here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$here/../../scripts/fetch-penguins.sh" "$work" || fail "cannot fetch penguins (scripts/setup.sh runs apt-get update)"
csv="$work/penguins.csv"
"$bin/strike" data convert --input "$csv" --target species --output "$work/data" >/dev/null || fail "convert"

top1() { /usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['metrics']['$2'])" "$1/summary.json"; }
at_least() { /usr/bin/python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) >= float(sys.argv[2]) else 1)" "$1" "$2"; }

train() {  # train NAME EPOCHS BATCH FLAGS...
  local name="$1" epochs="$2" batch="$3"; shift 3
  "$bin/strike" train --data "$work/data" --output "$work/$name" --epochs "$epochs" --batch-size "$batch" --progress none \
    "$@" > "$work/$name.log" 2>&1 || { tail -20 "$work/$name.log"; fail "train $name"; }
  local acc; acc=$(top1 "$work/$name" test_top1)
  echo "$name: test_top1 $acc"
  at_least "$acc" 0.97 || fail "$name: test accuracy $acc < 0.97"
}
train mlp 30 16
grep -q '"task": "tabular_classification"' "$work/mlp/summary.json" || fail "summary.json does not name the task"
grep -q '"backbone": "mlp"' "$work/mlp/summary.json" || fail "the default tabular backbone is not mlp"
train ft 20 16 --backbone ft_transformer
train mlp2 30 8 --ranks 2

acc=$("$bin/strike" eval --checkpoint "$work/mlp/checkpoints/best.h5" --data "$work/data" --split test |
      /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['test_top1'])") || fail "eval"
at_least "$acc" 0.97 || fail "eval: test accuracy $acc"

# Raw rows, columns reordered and the target kept: predictions next to true labels.
/usr/bin/python3 - "$csv" "$work/shuffled.csv" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1])))
order = list(reversed(range(len(rows[0]))))
with open(sys.argv[2], "w", newline="") as f:
    csv.writer(f).writerows([[r[i] for i in order] for r in rows])
PY
"$bin/strike" predict --checkpoint "$work/mlp/checkpoints/best.h5" "$work/shuffled.csv" --output "$work/pred.csv" ||
  fail "predict on raw rows"
/usr/bin/python3 - "$work/pred.csv" <<'PY' || fail "predictions on every penguin"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
right = sum(r["label"] == r["true_label"] for r in rows)
print(f"predict on all {len(rows)} rows: {right} right")
assert len(rows) == 344 and right / len(rows) >= 0.97, (len(rows), right)
PY
head -3 "$csv" | sed 's/Torgersen/Atlantis/' | cut -d, -f2- > "$work/unseen.csv"
out=$("$bin/strike" predict --checkpoint "$work/mlp/checkpoints/best.h5" "$work/unseen.csv" --kind probabilities 2>&1) ||
  fail "an unseen island must still predict: $out"
grep -q "not seen in training" <<<"$out" || fail "no warning for the unseen island: $out"
[ "$(grep -c '^/.*unseen.csv:[23],' <<<"$out")" = 2 ] || fail "two rows of probabilities expected: $out"

cut -d, -f1-6 "$csv" | head -3 > "$work/missing.csv"
out=$("$bin/strike" predict --checkpoint "$work/mlp/checkpoints/best.h5" "$work/missing.csv" 2>&1)
[ $? -eq 1 ] && grep -q "lacks column(s) 'sex', 'year'" <<<"$out" || fail "missing columns: $out"
sed '1s/$/,ring/; 2,$s/$/,1/' <(head -3 "$csv") > "$work/extra.csv"
out=$("$bin/strike" predict --checkpoint "$work/mlp/checkpoints/best.h5" "$work/extra.csv" 2>&1)
[ $? -eq 1 ] && grep -q "'ring' that the model was not trained on" <<<"$out" || fail "extra column: $out"
echo "tabular: ok"

#!/usr/bin/env bash
# Data-parallel training on 2 real MPI ranks: equal to 1-rank training on the same global batches,
# identical replicas (--check-sync), bitwise-repeatable metrics, a joint Ctrl-C and resume, and the
# launch errors that must end with a message instead of a hang.
source "$(dirname "$0")/fmnist_subset.sh" "$@"
command -v mpirun >/dev/null || { echo "SKIP: mpirun missing"; exit 77; }
convert_subset 2000 400
py=/usr/bin/python3
common=(--data "$work/data" --seed 5 --threads 1 --progress none)

# 1. Same global batch (1 x 64 vs 2 x 32), synchronized batch norm, augmentation on: after 8 SGD
#    steps the parameters agree to float tolerance (only the order of float sums differs).
steps=(--epochs 1 --max-steps-per-epoch 8 --no-test --augment --optimizer sgd --lr 0.002)
"$bin/strike" train "${common[@]}" "${steps[@]}" --batch-size 64 --output "$work/one" >/dev/null 2>&1 \
  || fail "1-rank run"
"$bin/strike" train "${common[@]}" "${steps[@]}" --batch-size 32 --ranks 2 --sync-batchnorm --check-sync \
  --output "$work/two" > "$work/two.log" 2>&1 || { cat "$work/two.log"; fail "2-rank run"; }
grep -q "2 mpi rank(s)" "$work/two.log" || fail "the 2-rank run did not run on 2 MPI ranks"
$py "$here/compare_checkpoints.py" "$work/one/checkpoints/last.h5" "$work/two/checkpoints/last.h5" 2e-5 1e-3 \
  || fail "2-rank parameters differ from 1-rank parameters"
# Without synchronized batch norm each rank normalizes its own 32 samples: the check must see that.
"$bin/strike" train "${common[@]}" "${steps[@]}" --batch-size 32 --ranks 2 --output "$work/two-local-bn" \
  >/dev/null 2>&1 || fail "2-rank run without sync batch norm"
if $py "$here/compare_checkpoints.py" "$work/one/checkpoints/last.h5" "$work/two-local-bn/checkpoints/last.h5" \
  2e-5 1e-3 >/dev/null; then fail "the comparison cannot tell per-rank batch norm from global"; fi

# 2. Same seed and world size: bitwise-identical metrics, with compressed gradients too.
two=(train "${common[@]}" --epochs 3 --batch-size 32 --ranks 2 --grad-compression bf16)
run2() { "$bin/strike" "${two[@]}" "$@"; }
run2 --output "$work/r1" >/dev/null 2>&1 || fail "repeat run 1"
run2 --output "$work/r2" >/dev/null 2>&1 || fail "repeat run 2"
$py - "$work" <<'PY' || fail "two identical 2-rank runs gave different metrics"
import json, sys
a, b = (json.load(open(f"{sys.argv[1]}/{r}/summary.json")) for r in ("r1", "r2"))
assert a["world_size"] == 2 and a["backend"] == "mpi", a
assert a["metrics"] == b["metrics"], (a["metrics"], b["metrics"])
print("bitwise-identical metrics:", a["metrics"])
PY

# 3. Ctrl-C reaches both ranks (as USR1 through mpirun): they stop at the same step, rank 0 saves
#    last.h5, exit 130; --resume last ends exactly where the uninterrupted run r1 ended.
"$bin/strike" "${two[@]}" --output "$work/cut" > "$work/cut.log" 2>&1 &  # not a function: $! must be strike
pid=$!
# Interrupt once both ranks are training (a progress event of the train phase), so a step is done
# and a checkpoint is due; a loaded machine can take many seconds to get there.
started=0
for _ in $(seq 1 1200); do
  grep -q '"phase":"train"' "$work/cut/events.jsonl" 2>/dev/null && { started=1; break; }
  sleep 0.05
done
[ "$started" -eq 1 ] || { cat "$work/cut.log"; fail "the 2-rank run made no training progress in 60 s"; }
sleep 0.3
kill -INT "$pid"
set +e; wait "$pid"; rc=$?; set -e
[ "$rc" -eq 130 ] || { cat "$work/cut.log"; fail "interrupted 2-rank run exited $rc, expected 130"; }
test -f "$work/cut/checkpoints/last.h5" || { cat "$work/cut.log"; fail "no last.h5 after interrupting 2 ranks"; }
run2 --output "$work/cut" --resume last > "$work/resume.log" 2>&1 || { cat "$work/resume.log"; fail "resumed 2-rank run"; }
$py - "$work" <<'PY' || fail "resumed 2-rank metrics differ from the uninterrupted run's"
import json, sys
a, b = (json.load(open(f"{sys.argv[1]}/{r}/summary.json")) for r in ("r1", "cut"))
assert a["steps"] == b["steps"] and a["metrics"] == b["metrics"], (a["metrics"], b["metrics"])
PY

# 4. Launch failures end quickly with a message and a non-zero exit, never a hang.
expect_error() {  # expect_error EXPECTED_TEXT COMMAND... : non-zero exit within 60 s, text in the output
  local text="$1"; shift
  set +e; timeout 60 "$@" > "$work/err.log" 2>&1; local rc=$?; set -e
  [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || { cat "$work/err.log"; fail "'$*' exited $rc"; }
  grep -q -- "$text" "$work/err.log" || { cat "$work/err.log"; fail "no '$text' from '$*'"; }
}
expect_error "needs mpirun, which is not on PATH" env PATH=/nonexistent "$bin/strike" train "${common[@]}" --ranks 2
expect_error "no GPU is visible" "$bin/strike" train "${common[@]}" --device cuda
expect_error "but this job has 2 rank(s)" mpirun -np 2 --oversubscribe --allow-run-as-root \
  "$bin/strike-worker" train "${common[@]}" --ranks 3 --output "$work/wrong"
# A rank that fails to start: mpirun tears the job down instead of leaving rank 0 waiting.
expect_error "non-zero" mpirun --allow-run-as-root --oversubscribe -np 1 "$bin/strike-worker" train "${common[@]}" \
  --output "$work/half" : -np 1 /bin/false
echo "PASS"

#!/usr/bin/env bash
# strike on a real single-node Slurm (slurmctld + slurmd from tests/e2e/slurm_cluster.sh): a 2-task job
# from `strike slurm submit` finishes with the expected summary; USR1 mid-training checkpoints,
# requeues and the job ends with the metrics of an uninterrupted one; a 3-element array runs three
# trials; srun without PMIx (N singletons) stops with the clear message.
source "$(dirname "$0")/fmnist_subset.sh" "$@"
source "$here/slurm_cluster.sh"
slurm_available || { echo "SKIP: $SLURM_SKIP_REASON"; exit 77; }
command -v mpirun >/dev/null || { echo "SKIP: mpirun missing"; exit 77; }
convert_subset 2000 400
slurm_up || fail "could not start the test Slurm cluster"
trap 'slurm_down; rm -rf "$work"' EXIT
py=/usr/bin/python3
train=(--data "$work/data" --seed 4 --threads 1 --progress plain --batch-size 32 --epochs 2 --checkpoint-every 4)

submit() {  # submit RUN_DIR [strike slurm options...] -> prints the job id
  local out="$1"; shift
  "$bin/strike" slurm submit --output "$out" --time 00:10:00 "$@" -- "${train[@]}"
}
finish() {  # finish JOBID RUN_DIR: waits for COMPLETED, else shows the job's log and fails
  slurm_wait_job "$1" 240 COMPLETED FAILED CANCELLED TIMEOUT NODE_FAIL OUT_OF_MEMORY \
    || fail "job $1 still $SLURM_TEST_JOB_STATE after 240 s"
  [ "$SLURM_TEST_JOB_STATE" = COMPLETED ] || { cat "$2"/slurm-*.out; slurm_logs; fail "job $1 ended $SLURM_TEST_JOB_STATE"; }
}

# 1. `strike slurm submit`: 2 tasks on the node through srun --mpi=pmix, the expected summary.
job="$(submit "$work/two" --tasks-per-node 2)" || fail "strike slurm submit"
[[ "$job" =~ ^[0-9]+$ ]] || fail "submit printed '$job', not a job id"
grep -q "^#SBATCH --ntasks-per-node=2" "$work/two/job.sbatch" || fail "no job.sbatch in the run directory"
"$bin/strike" slurm status "$job" | grep -q "$job" || fail "strike slurm status $job"
finish "$job" "$work/two"
$py - "$work/two/summary.json" <<'PY' || { cat "$work"/two/slurm-*.out; fail "2-task Slurm job summary"; }
import json, sys
s = json.load(open(sys.argv[1]))
assert s["world_size"] == 2 and s["backend"] == "mpi" and s["epochs"] == 2, s
assert s["metrics"]["test_top1"] > 0.6, s["metrics"]
print("2 tasks under Slurm:", s["metrics"])
PY
"$bin/strike" slurm logs "$job" | grep -q "summary" || fail "strike slurm logs shows no summary line"

# 2. USR1 to the batch script mid-training (what --signal sends ahead of the time limit): every rank
#    saves, strike requeues the job, the requeued job resumes, and ends exactly like job 1.
job="$(submit "$work/cut" --tasks-per-node 2)" || fail "submit the job to interrupt"
for _ in $(seq 1 1200); do
  grep '"event":"checkpoint"' "$work/cut/events.jsonl" 2>/dev/null | grep -q '"step":8,' && break
  sleep 0.1
done
scancel --batch --signal=USR1 "$job" || fail "scancel --signal=USR1 $job"
for _ in $(seq 1 600); do grep -q '"event":"requeueing"' "$work/cut/events.jsonl" 2>/dev/null && break; sleep 0.1; done
grep -q '"event":"requeueing"' "$work/cut/events.jsonl" || { cat "$work"/cut/slurm-*.out; fail "no requeue after USR1"; }
finish "$job" "$work/cut"
grep -q '"event":"requeued"' "$work/cut/events.jsonl" || fail "the requeued job did not resume"
grep -q "resumed from .*last.h5" "$work/cut/logs/rank-0.log" || fail "the requeued job did not load its checkpoint"
$py - "$work" <<'PY' || fail "the requeued job's metrics differ from the uninterrupted job's"
import json, sys
a, b = (json.load(open(f"{sys.argv[1]}/{r}/summary.json")) for r in ("two", "cut"))
assert a["steps"] == b["steps"] and a["metrics"] == b["metrics"], (a["metrics"], b["metrics"])
PY

# 3. A 3-element array: three trials, each with its own run directory and seed.
job="$(submit "$work/sweep" --tasks-per-node 1 --array 0-2)" || fail "submit the array"
for t in 0 1 2; do finish "${job}_$t" "$work/sweep"; done
$py - "$work/sweep" <<'PY' || fail "array trials"
import json, sys
runs = [json.load(open(f"{sys.argv[1]}/trial-{t}/summary.json")) for t in range(3)]
losses = {r["metrics"]["test_loss"] for r in runs}
assert len(losses) == 3, ("three trials should differ", losses)
print("3 trials:", sorted(losses))
PY

# 4. strike slurm cancel ends a job.
job="$(submit "$work/cancelled" --tasks-per-node 1)" || fail "submit the job to cancel"
"$bin/strike" slurm cancel "$job" | grep -q "cancelled $job" || fail "strike slurm cancel $job"
slurm_wait_job "$job" 60 CANCELLED || fail "job $job is $SLURM_TEST_JOB_STATE after strike slurm cancel"

# 5. srun without PMIx starts two singletons: strike stops them with the clear message.
job="$(sbatch --parsable --ntasks 2 --output "$work/singletons.out" \
  --wrap "srun --mpi=none $bin/strike-worker train --data $work/data --output $work/singletons")"
slurm_wait_job "$job" 120 || fail "the singleton job did not end"
[ "$SLURM_TEST_JOB_STATE" = FAILED ] || fail "a job of singletons ended $SLURM_TEST_JOB_STATE"
grep -q "srun started 2 tasks but MPI reports a world of 1" "$work/singletons.out" \
  || { cat "$work/singletons.out"; fail "no clear message for singletons"; }
echo "PASS"

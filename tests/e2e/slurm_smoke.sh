#!/usr/bin/env bash
# A real single-node Slurm (slurm_cluster.sh) runs what strike will ask of it (issue 5): a batch job
# completes with its output; `srun -n 2 --mpi=pmix` starts a 2-rank Open MPI program that sees world
# size 2, directly and inside a 2-task batch job; a 3-element job array runs tasks 0, 1, 2; `scontrol
# requeue` of a running job makes it run again with SLURM_RESTART_COUNT=1; and a job array task that gets
# USR1 from `--signal=B:USR1@50` requeues itself by its array-aware id and runs again.
# Exit 0 pass, 77 skipped (not root, Slurm or munge not installed, no mpicc), anything else fail.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/slurm_cluster.sh"
slurm_available || { echo "skip: $SLURM_SKIP_REASON"; exit 77; }
command -v mpicc >/dev/null || { echo "skip: mpicc not installed (libopenmpi-dev)"; exit 77; }
t0=$SECONDS
slurm_up || { echo "FAIL: slurm_up"; exit 1; }
echo "slurm up in $((SECONDS - t0)) s: node $SLURM_TEST_NODE ($SLURM_TEST_CPUS CPUs), ports $SLURM_TEST_CTLD_PORT/$SLURM_TEST_SLURMD_PORT, $SLURM_TEST_DIR"
cd "$SLURM_TEST_DIR" || exit 1
d="$SLURM_TEST_DIR"

failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
# submit ARGS...: sbatch --parsable, the job id (of an array: the array's id) on stdout.
submit() { local id; id="$(sbatch --parsable "$@")" || return 1; echo "${id%%;*}"; }
# wait_state JOB SECONDS STATE: fails the test unless JOB reaches STATE (or any final state) in time.
wait_state() {
  slurm_wait_job "$1" "$2"
  [ "$SLURM_TEST_JOB_STATE" = "$3" ] || { fail "job $1: state $SLURM_TEST_JOB_STATE after up to $2 s, want $3"; return 1; }
}

cat >"$d/hello.c" <<'C'
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  long one = rank + 1, sum = 0;
  MPI_Allreduce(&one, &sum, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
  char host[256] = "";
  gethostname(host, sizeof host);
  const char *procid = getenv("SLURM_PROCID"), *ntasks = getenv("SLURM_NTASKS");
  printf("rank=%d size=%d sum=%ld host=%s slurm_procid=%s slurm_ntasks=%s\n", rank, size, sum, host,
         procid ? procid : "-", ntasks ? ntasks : "-");
  MPI_Finalize();
  return 0;
}
C
mpicc -O1 -o "$d/hello" "$d/hello.c" || { echo "FAIL: mpicc"; exit 1; }

# sbatch: a batch job completes with its output.
t=$SECONDS
j="$(submit -o "$d/hostname-%j.out" --wrap hostname)" || fail "sbatch --wrap hostname"
if [ -n "$j" ] && wait_state "$j" 60 COMPLETED; then
  [ "$(cat "$d/hostname-$j.out")" = "$(hostname)" ] || fail "job $j output '$(cat "$d/hostname-$j.out")', want '$(hostname)'"
fi
echo "sbatch: job $j $(slurm_job_state "$j") in $((SECONDS - t)) s"

# srun --mpi=pmix: 2 ranks in one world, directly and inside a 2-task batch job.
check_ranks() {   # WHAT OUTPUT
  local r
  for r in 0 1; do
    grep -qx "rank=$r size=2 sum=3 host=$(hostname) slurm_procid=$r slurm_ntasks=2" <<<"$2" ||
      fail "$1: no 'rank=$r size=2 sum=3' line"
  done
}
t=$SECONDS
out="$(timeout 60 srun -n 2 --mpi=pmix "$d/hello" 2>&1)" || fail "srun -n 2 --mpi=pmix exited $?"
echo "$out"
check_ranks "srun -n 2 --mpi=pmix" "$out"
echo "srun: $((SECONDS - t)) s"
t=$SECONDS
j="$(submit -n 2 -o "$d/mpi-%j.out" --wrap "srun --mpi=pmix $d/hello")" || fail "sbatch -n 2"
[ -n "$j" ] && wait_state "$j" 60 COMPLETED
check_ranks "sbatch -n 2 + srun --mpi=pmix" "$(cat "$d/mpi-$j.out" 2>/dev/null)"
echo "sbatch -n 2 + srun --mpi=pmix: job $j $(slurm_job_state "$j") in $((SECONDS - t)) s"

# A job array of three.
t=$SECONDS
a="$(submit --array=0-2 -o "$d/array-%A_%a.out" \
  --wrap 'echo "task=$SLURM_ARRAY_TASK_ID of=$SLURM_ARRAY_JOB_ID count=$SLURM_ARRAY_TASK_COUNT"')" || fail "sbatch --array=0-2"
for i in 0 1 2; do
  [ -n "$a" ] && wait_state "${a}_$i" 60 COMPLETED || continue
  [ "$(cat "$d/array-${a}_$i.out")" = "task=$i of=$a count=3" ] ||
    fail "array task $i output '$(cat "$d/array-${a}_$i.out" 2>/dev/null)'"
done
echo "array: job $a tasks $(for i in 0 1 2; do printf '%s ' "$(slurm_job_state "${a}_$i")"; done)in $((SECONDS - t)) s"

# The requeues, side by side (one CPU each; a requeued job is eligible again cred_expire + 1 s later).
# 1. requeued from outside with `scontrol requeue` while it runs.
cat >"$d/requeue.sh" <<'EOF'
#!/bin/bash
echo "run restart=${SLURM_RESTART_COUNT:-none} job=$SLURM_JOB_ID"
if [ "${SLURM_RESTART_COUNT:-0}" -ge 1 ]; then env | grep -E '^SLURM_(JOB_ID|RESTART_COUNT|ARRAY)' | sort; exit 0; fi
echo started >"$SLURM_SUBMIT_DIR/requeue.started"
sleep 120
echo "not requeued"
EOF
rq="$(submit --open-mode=append -o "$d/requeue-%j.out" "$d/requeue.sh")" || fail "sbatch requeue.sh"
# 2. an array task that requeues itself on USR1, which Slurm sends 50 s before its 1-minute limit (it
#    checks time limits every 30 s, so 10 to 40 s after the start).
cat >"$d/usr1.sh" <<'EOF'
#!/bin/bash
echo "run restart=${SLURM_RESTART_COUNT:-none} job=$SLURM_JOB_ID array=${SLURM_ARRAY_JOB_ID}_$SLURM_ARRAY_TASK_ID"
[ "${SLURM_RESTART_COUNT:-0}" -ge 1 ] && exit 0
trap 'echo "USR1 after $SECONDS s"; scontrol requeue "${SLURM_ARRAY_JOB_ID}_$SLURM_ARRAY_TASK_ID" && echo requeued' USR1
for i in $(seq 120); do sleep 1; done
echo "no USR1"
EOF
sg="$(submit --array=7 --time=1 --signal=B:USR1@50 --open-mode=append -o "$d/usr1-%A_%a.out" "$d/usr1.sh")" ||
  fail "sbatch usr1.sh"

for i in $(seq 300); do [ -f "$d/requeue.started" ] && break; sleep 0.2; done
if [ -f "$d/requeue.started" ]; then
  t=$SECONDS
  scontrol requeue "$rq" || fail "scontrol requeue $rq exited $?"
  wait_state "$rq" 90 COMPLETED
else
  fail "requeue job $rq did not start"
fi
echo "---- requeue-$rq.out"; cat "$d/requeue-$rq.out"
grep -qx "run restart=none job=$rq" "$d/requeue-$rq.out" || fail "requeue job: no first run"
grep -qx "run restart=1 job=$rq" "$d/requeue-$rq.out" || fail "requeue job: no second run with SLURM_RESTART_COUNT=1"
grep -q "not requeued" "$d/requeue-$rq.out" && fail "requeue job: the first run was not stopped"
echo "scontrol requeue: job $rq $(slurm_job_state "$rq") $((SECONDS - t)) s after the requeue"
wait_state "${sg}_7" 120 COMPLETED
echo "USR1 self-requeue: job ${sg}_7 $(slurm_job_state "${sg}_7") $((SECONDS - t)) s after the other requeue"
echo "---- usr1-${sg}_7.out"; cat "$d/usr1-${sg}_7.out"
grep -qx "run restart=none job=$sg array=${sg}_7" "$d/usr1-${sg}_7.out" || fail "USR1 job: no first run"
grep -q "^USR1 after" "$d/usr1-${sg}_7.out" || fail "USR1 job: the batch script got no USR1"
# No "requeued" line to look for: the requeue ends the script (TERM) before `&& echo` may run; the
# second run below is the proof that scontrol requeue from inside the job worked.
grep -qx "run restart=1 job=$sg array=${sg}_7" "$d/usr1-${sg}_7.out" || fail "USR1 job: no second run"

echo "total $((SECONDS - t0)) s"
if [ "$failures" -ne 0 ]; then echo "$failures failure(s)"; slurm_logs; exit 1; fi
echo "ok: sbatch, srun --mpi=pmix (world size 2), a job array of 3, scontrol requeue, USR1 -> self-requeue"

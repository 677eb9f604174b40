#!/usr/bin/env bash
# The launcher's coordination service with real processes: a rank killed mid-epoch and restarted,
# a kill during a checkpoint write, a stopped rank torn down with a per-rank report, garbage and a
# connection flood at the port, and a killed launcher whose ranks do not outlive it.
source "$(dirname "$0")/fmnist_subset.sh" "$@"
command -v mpirun >/dev/null || { echo "SKIP: mpirun missing"; exit 77; }
convert_subset 3000 400
py=/usr/bin/python3
# 42 steps per epoch on 2 ranks (2700 training samples / 64), last.h5 every 4 steps.
base=(train --data "$work/data" --seed 3 --threads 1 --progress plain --ranks 2 --batch-size 32 --checkpoint-every 4)
job=("${base[@]}" --epochs 2)
long=("${base[@]}" --epochs 50)  # for jobs that end by a fault

# The newest hello of RANK in RUN's events.jsonl -> that rank's pid.
rank_pid() {
  grep '"event":"hello"' "$1/events.jsonl" 2>/dev/null | grep "\"rank\":$2," | tail -n 1 \
    | sed 's/.*"pid":\([0-9]*\).*/\1/'
}
# Polls COMMAND... every 20 ms for up to SECONDS; fails the test with WHAT if it never succeeds.
wait_for() {
  local seconds="$1" what="$2"; shift 2
  local deadline=$((SECONDS + seconds))
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || fail "timed out waiting for $what"
    sleep 0.02
  done
}
checkpoint_at() { grep '"event":"checkpoint"' "$1/events.jsonl" 2>/dev/null | grep -q "\"step\":$2,"; }
progress_seen() { grep -q '"event":"progress"' "$1/events.jsonl" 2>/dev/null; }
same_metrics() {  # same_metrics RUN_A RUN_B: equal steps and bitwise-equal metrics in summary.json
  $py - "$1" "$2" <<'PY'
import json, sys
a, b = (json.load(open(f"{d}/summary.json")) for d in sys.argv[1:])
assert a["steps"] == b["steps"] and a["metrics"] == b["metrics"], (a["steps"], b["steps"], a["metrics"], b["metrics"])
print("same metrics:", a["metrics"])
PY
}
workers_of() { pgrep -f "strike-worker train .*$1" || true; }

# 0. The reference: the same job, never interrupted.
"$bin/strike" "${job[@]}" --output "$work/ref" > "$work/ref.log" 2>&1 || { cat "$work/ref.log"; fail "reference run"; }
grep -q '"event":"done"' "$work/ref/events.jsonl" || fail "no done events in events.jsonl"
# The view follows heartbeats and rate-limited progress, so which steps get a plain line varies.
grep -Eq "train epoch [12]/2 step [0-9]+/42 loss" "$work/ref.log" || { cat "$work/ref.log"; fail "no plain progress lines from the launcher"; }

# 1. kill -9 of rank 1 mid-epoch: noticed within 5 s, restarted from the newest checkpoint, and the
#    finished job has exactly the reference's metrics.
"$bin/strike" "${job[@]}" --max-restarts 1 --output "$work/kill" > "$work/kill.log" 2>&1 &
launcher=$!
wait_for 120 "a checkpoint at step 12" checkpoint_at "$work/kill" 12
victim="$(rank_pid "$work/kill" 1)"
[ -n "$victim" ] || fail "no hello from rank 1 in events.jsonl"
kill -9 "$victim"
killed_at=$SECONDS
wait_for 10 "the fault to be noticed" grep -q '"event":"fault"' "$work/kill/events.jsonl"
[ $((SECONDS - killed_at)) -le 5 ] || fail "the dead rank was noticed after $((SECONDS - killed_at)) s (limit 5)"
set +e; wait "$launcher"; rc=$?; set -e
[ "$rc" -eq 0 ] || { cat "$work/kill.log"; fail "restarted job exited $rc"; }
grep -q '"event":"restart"' "$work/kill/events.jsonl" || fail "no restart event"
grep -q "restarting the job (1 of 1) from .*last.h5" "$work/kill.log" || { cat "$work/kill.log"; fail "no restart message"; }
same_metrics "$work/ref" "$work/kill" || fail "a killed and restarted job ended with other metrics"

# 2. A kill while last.h5 is being written (the write at step 12 pauses halfway): the interrupted
#    write is never used; the job resumes from step 8's checkpoint and still matches the reference.
STRIKE_TEST_CHECKPOINT_PAUSE=12:4 "$bin/strike" "${job[@]}" --max-restarts 1 --output "$work/torn" \
  > "$work/torn.log" 2>&1 &
launcher=$!
wait_for 120 "a checkpoint at step 8" checkpoint_at "$work/torn" 8
partial() { compgen -G "$work/torn/checkpoints/last.h5.tmp*" > /dev/null; }
wait_for 60 "the write of step 12's checkpoint" partial
kill -9 "$(rank_pid "$work/torn" 0)"
set +e; wait "$launcher"; rc=$?; set -e
[ "$rc" -eq 0 ] || { cat "$work/torn.log"; fail "job killed during a checkpoint write exited $rc"; }
grep -q "resumed from .*last.h5 at epoch 0 step 8" "$work/torn/logs/rank-0.log" \
  || { cat "$work/torn/logs/rank-0.log"; fail "the restart did not resume from step 8's complete checkpoint"; }
same_metrics "$work/ref" "$work/torn" || fail "a job killed mid-write ended with other metrics"
! partial || fail "the partial checkpoint was left behind after the restart"

# 3. SIGSTOP of one rank: a stall, reported per rank and torn down within stall-timeout + 10 s,
#    leaving no process behind.
"$bin/strike" "${long[@]}" --stall-timeout 6 --heartbeat-timeout 60 --output "$work/stall" \
  > "$work/stall.log" 2>&1 &
launcher=$!
wait_for 120 "progress" progress_seen "$work/stall"
kill -STOP "$(rank_pid "$work/stall" 1)"
stopped_at=$SECONDS
set +e; wait "$launcher"; rc=$?; set -e
took=$((SECONDS - stopped_at))
[ "$rc" -ne 0 ] || fail "a stalled job exited 0"
[ "$took" -le 16 ] || fail "the stall was torn down after $took s (limit 6 + 10)"
# The stopped rank alone when its silence passes the limit first, or both when they stopped together.
grep -Eq "(rank 1 has|ranks 0,1 have) not moved past epoch 1 train step [0-9]+/[0-9]+ for [0-9.]+ s" "$work/stall.log" \
  || { cat "$work/stall.log"; fail "no per-rank stall report"; }
sleep 1
[ -z "$(workers_of "$work/stall")" ] || { ps aux | grep strike-worker; fail "ranks outlived a torn-down job"; }

# 4. Garbage at the coordination port -- random bytes, a wrong token, an oversize frame, a flood of
#    connections -- is ignored: the job finishes with the reference's metrics.
"$bin/strike" "${job[@]}" --output "$work/noise" > "$work/noise.log" 2>&1 &
launcher=$!
wait_for 120 "the job to start" progress_seen "$work/noise"
address="$(grep '"event":"start"' "$work/noise/events.jsonl" | tail -n 1 | sed 's/.*"coordination":"\([^"]*\)".*/\1/')"
$py - "$address" <<'PY' || fail "could not reach the coordination port"
import os, socket, struct, sys
host, port = sys.argv[1].rsplit(":", 1)
def connect():
    return socket.create_connection((host, int(port)), timeout=5)
def attempt(payload):
    try:
        s = connect(); s.sendall(payload); s.close()
    except OSError:
        pass  # the server may close first: that is the point
attempt(os.urandom(4096))                                                  # random bytes
attempt(b"0" * 64 + struct.pack(">I", 1 << 30))                           # wrong token, oversize frame
attempt(b"f" * 64 + struct.pack(">I", 5) + b"hello")                      # wrong token, a frame
flood = []
for _ in range(300):                                                       # connections that never speak
    try:
        flood.append(connect())
    except OSError:
        pass
for s in flood[:100]:
    try: s.sendall(os.urandom(100))
    except OSError: pass
print(f"sent garbage and {len(flood)} idle connections to {host}:{port}")
for s in flood: s.close()
PY
set +e; wait "$launcher"; rc=$?; set -e
[ "$rc" -eq 0 ] || { cat "$work/noise.log"; fail "the job under garbage exited $rc"; }
same_metrics "$work/ref" "$work/noise" || fail "garbage at the port changed the job's metrics"

# 5. The launcher killed: its ranks notice and are gone within the heartbeat timeout.
"$bin/strike" "${long[@]}" --heartbeat-timeout 5 --output "$work/orphan" > "$work/orphan.log" 2>&1 &
launcher=$!
wait_for 120 "progress" progress_seen "$work/orphan"
[ -n "$(workers_of "$work/orphan")" ] || fail "no ranks found for the orphan test"
kill -9 "$launcher"
killed_at=$SECONDS
gone() { [ -z "$(workers_of "$work/orphan")" ]; }
wait_for 15 "the ranks to exit after the launcher died" gone
[ $((SECONDS - killed_at)) -le 6 ] || fail "ranks outlived the launcher by $((SECONDS - killed_at)) s (timeout 5)"
grep -q "the launcher is gone" "$work/orphan/logs/rank-0.log" || fail "rank 0 did not say it lost the launcher"
grep -q "interrupted at epoch .*saved" "$work/orphan/logs/rank-0.log" || fail "rank 0 saved no checkpoint on losing the launcher"
wait "$launcher" 2>/dev/null || true
echo "PASS"

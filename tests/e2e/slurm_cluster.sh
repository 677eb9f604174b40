# shellcheck shell=bash
# A real single-node Slurm (Debian's slurm-wlm 22.05 and munge) on this machine for the tests (issue 5,
# "Real Slurm in the tests"). Source it:
#
#   source tests/e2e/slurm_cluster.sh
#   slurm_available || { echo "skip: $SLURM_SKIP_REASON"; exit 77; }
#   slurm_up || exit 1                 # also installs an EXIT/INT/TERM trap that calls slurm_down
#   jobid="$(sbatch --parsable --wrap 'hostname')"
#   slurm_wait_job "$jobid" 60 COMPLETED || echo "job $jobid: $SLURM_TEST_JOB_STATE"
#
# What runs (ID = $$ of the sourcing shell, so concurrent tests never share anything; everything lives in
# SLURM_TEST_DIR = /tmp/strike-slurm-ID.XXXXXX, no file outside it is written and no /etc/slurm or
# /etc/munge file read):
#
#   munged -F --force        its own key, socket, pid and seed files in $SLURM_TEST_DIR/munge
#   slurmctld -D -f conf     controller on this host (`hostname -s`, address 127.0.0.1), port SLURM_TEST_CTLD_PORT
#   slurmd -D -f conf        the only node, same host, port SLURM_TEST_SLURMD_PORT, nproc CPUs
#
# All three run as root (SlurmUser=root, SlurmdUser=root; jobs run as the submitting user, root here).
# ProctrackType=proctrack/linuxproc, TaskPlugin=task/none (no cgroup plugins: they would manage the
# container's cgroup tree, which is not the test's to change), no accounting (no slurmdbd: `sacct` does
# not work; final states are in `scontrol show job` for MinJobAge=60 s and in the job completion log
# SLURM_TEST_JOBCOMP_LOG for good), MpiDefault=none (jobs ask for --mpi=pmix), JobRequeue=1, a requeued
# job eligible again after AuthInfo cred_expire + 1 s (10 + 1 here, SLURM_TEST_CRED_EXPIRE; Slurm's
# default is 120), pending jobs looked at every 2 s, the partition `debug` (the default one). State does
# not outlive a run: every slurm_up starts from an empty state directory (job ids from 1).
# Teardown and the sweep of earlier runs find a cluster's processes by a mark, never by name or by a bare
# PID that may have been reused: the daemons are started with STRIKE_SLURM_DIR=$SLURM_TEST_DIR in their
# environment, slurmstepds hold its slurmd.log open, job processes have its SLURM_CONF and a SLURM_JOB_ID.
# munged logs "Unauthorized credential for client UID=0" each time a Slurm daemon or slurmstepd starts:
# Slurm checks that root cannot decode a credential meant for another uid; expected.
#
# Exported after slurm_up (jobs inherit the submitting environment, so they see these too; the harness's
# own names start with SLURM_TEST_ because Slurm's commands read many SLURM_* variables as options,
# e.g. SLURM_PARTITION):
#   SLURM_CONF               the generated slurm.conf (every client reads it: sbatch, srun, squeue, scontrol)
#   SLURM_TEST_DIR           the temp dir (config, state, spool, logs; anything the test wants to put there)
#   SLURM_TEST_NODE          the node's name (= the controller's host = `hostname -s`)
#   SLURM_TEST_CPUS          its CPUs;  SLURM_TEST_PARTITION  debug
#   SLURM_TEST_CTLD_PORT, SLURM_TEST_SLURMD_PORT   the ports picked (free when picked, below 32768)
#   SLURM_TEST_LOG_DIR       slurmctld.log, slurmd.log, munged.log, jobcomp.log
#   SLURM_TEST_JOBCOMP_LOG   jobcomp.log: one line per finished (or requeued) job, JobState=...
#   SLURM_TEST_MUNGE_SOCKET  munged's socket (`munge -S "$SLURM_TEST_MUNGE_SOCKET" -n | unmunge -S ...`)
# Functions: slurm_available, slurm_up, slurm_down (idempotent; safe from traps), slurm_job_state JOBID
# (the state of one job or array task, 5 or 5_1: PENDING, RUNNING, COMPLETED...; from scontrol, else from
# the completion log, else UNKNOWN), slurm_wait_job JOBID SECONDS [STATE...] (waits until the job is in
# one of the states, default any final one; sets SLURM_TEST_JOB_STATE; 1 on timeout), slurm_logs (tails
# of the daemons' logs, for failure messages).
# SLURM_TEST_KEEP_TRAPS=1 before slurm_up: install no trap (then call slurm_down yourself).
# SLURM_TEST_UP_TIMEOUT (default 60): seconds slurm_up waits for the node to be idle.

SLURM_SKIP_REASON=""

# Returns 0 when this machine can run the test cluster; otherwise 1 with SLURM_SKIP_REASON set.
# shellcheck disable=SC2034  # SLURM_SKIP_REASON is for the sourcing script
slurm_available() {
  local t
  if [ "$(id -u)" != 0 ]; then SLURM_SKIP_REASON="not root (the test cluster runs its daemons as root)"; return 1; fi
  case ":$PATH:" in *:/usr/sbin:*) ;; *) PATH="$PATH:/usr/sbin:/sbin" ;; esac   # the daemons, mungekey
  for t in munged mungekey munge unmunge slurmctld slurmd sbatch srun squeue sinfo scontrol scancel; do
    command -v "$t" >/dev/null 2>&1 ||
      { SLURM_SKIP_REASON="'$t' not installed (bash scripts/setup.sh: slurmctld slurmd slurm-client munge)"; return 1; }
  done
  return 0
}

# _slurm_marked_pids DIR: the processes of the cluster in DIR: its daemons (their environments carry
# STRIKE_SLURM_DIR=DIR), its slurmstepds (they overwrite their environment with their title, but keep
# slurmd.log open) and the processes of its jobs (SLURM_CONF=DIR/slurm.conf and a SLURM_JOB_ID, which
# the submitting shell's own processes do not have). Never this shell or its ancestors.
_slurm_marked_pids() {
  local dir="$1" f p skip=" "
  p="${BASHPID:-$$}"
  while [[ "$p" =~ ^[1-9][0-9]*$ ]]; do
    skip+="$p "
    p="$(awk '/^PPid:/ { print $2 }' "/proc/$p/status" 2>/dev/null)"
  done
  skip+="$$ "
  {
    grep -lzxF "STRIKE_SLURM_DIR=$dir" /proc/[0-9]*/environ 2>/dev/null
    for f in $(grep -lzxF "SLURM_CONF=$dir/slurm.conf" /proc/[0-9]*/environ 2>/dev/null); do
      grep -qz '^SLURM_JOB_ID=' "$f" 2>/dev/null && echo "$f"
    done
    for f in $(grep -lx slurmstepd /proc/[0-9]*/comm 2>/dev/null); do
      find "${f%/comm}/fd" -maxdepth 1 -lname "$dir/*" 2>/dev/null | grep -q . && echo "$f"
    done
  } | sed -nE 's|^/proc/([0-9]+)/.*|\1|p' | sort -un | while read -r p; do
    [[ "$skip" == *" $p "* ]] || echo "$p"
  done
  return 0
}

# _slurm_stop DIR: ends the jobs of the cluster in DIR while its daemons still can (slurmstepd kills
# the tasks), then its daemons by their recorded PIDs (each checked against the mark: a PID may have
# been reused), TERM and after 3 s KILL, munged last, then anything of it left (TERM, after 5 s KILL).
_slurm_stop() {
  local d="$1" conf="$1/slurm.conf" jobs i f pid pids
  if [ -f "$conf" ] && [ -n "$(_slurm_marked_pids "$d")" ]; then
    jobs="$(SLURM_CONF="$conf" timeout 5 squeue -h -o %A 2>/dev/null | sort -u)"
    if [ -n "$jobs" ]; then
      SLURM_CONF="$conf" timeout 5 scancel --quiet $jobs 2>/dev/null
      for i in $(seq 50); do   # until squeue shows none, completing ones included
        [ -z "$(SLURM_CONF="$conf" timeout 5 squeue -h -o %A 2>/dev/null)" ] && break
        sleep 0.2
      done
    fi
  fi
  for f in "slurmd slurmctld" munged; do   # munged last: the others may still want credentials
    pids=""
    for i in $f; do
      pid="$(cat "$d/run/$i.fg.pid" 2>/dev/null)"
      [[ "$pid" =~ ^[0-9]+$ ]] && grep -qzxF "STRIKE_SLURM_DIR=$d" "/proc/$pid/environ" 2>/dev/null && pids+=" $pid"
    done
    [ -n "$pids" ] && _slurm_term_kill 3 $pids
  done
  pids="$(_slurm_marked_pids "$d")"
  [ -n "$pids" ] && _slurm_term_kill 5 $pids
  return 0
}

# _slurm_term_kill SECONDS PID...: TERM, and KILL what is still alive (not a zombie) after SECONDS.
_slurm_term_kill() {
  local secs="$1" i p alive
  shift
  kill -TERM "$@" 2>/dev/null
  for i in $(seq $(( secs * 10 ))); do
    alive=""
    for p in "$@"; do
      [ -e "/proc/$p" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$p/status" 2>/dev/null && alive+=" $p"
    done
    [ -n "$alive" ] || return 0
    sleep 0.1
  done
  kill -KILL $alive 2>/dev/null
  return 0
}

# Stops the clusters and removes the temp dirs left by earlier runs whose shell is gone (a test killed
# by SIGKILL, e.g. a ctest timeout, runs no trap).
_slurm_sweep_stale() {
  local d pid
  for d in /tmp/strike-slurm-*.*; do
    pid="${d#/tmp/strike-slurm-}"; pid="${pid%%.*}"
    if [ -d "$d" ] && [[ "$pid" =~ ^[0-9]+$ ]] && ! kill -0 "$pid" 2>/dev/null; then
      _slurm_stop "$d"
      rm -rf "$d"
    fi
  done
  return 0
}

# _slurm_free_port SEED [EXCLUDE]: a TCP port in 10000..32767 (below Linux's default ephemeral range, so
# no outgoing connection takes it meanwhile) that no local socket uses now, starting from SEED.
_slurm_free_port() {
  local seed="$1" exclude="${2:-}" used i p
  used=" $(cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk 'NR > 1 { n = split($2, a, ":"); print a[n] }' |
    sort -u | tr '\n' ' ') "   # local ports, 4 hex digits
  for i in $(seq 0 2000); do
    p=$(( (seed + 7919 * i) % 22768 + 10000 ))
    [ "$p" = "$exclude" ] && continue
    [[ "$used" == *" $(printf %04X "$p") "* ]] || { echo "$p"; return 0; }
  done
  return 1
}

slurm_logs() {
  local f
  for f in munged slurmctld slurmd; do
    [ -f "${SLURM_TEST_LOG_DIR:-/nonexistent}/$f.log" ] || continue
    echo "---- $f.log (last 25 lines)"
    tail -n 25 "$SLURM_TEST_LOG_DIR/$f.log"
  done
  for f in slurmctld slurmd; do   # their stderr, where they complain before their log file is open
    [ -s "${SLURM_TEST_LOG_DIR:-/nonexistent}/$f.out" ] || continue
    echo "---- $f stderr (last 10 lines)"
    tail -n 10 "$SLURM_TEST_LOG_DIR/$f.out"
  done
}

slurm_up() {
  local id="$$" d host cpus mem_kb mem i state deadline
  [[ "${SLURM_TEST_DIR:-}" == "/tmp/strike-slurm-$id."* ]] && slurm_down   # this shell's earlier cluster
  _slurm_sweep_stale
  SLURM_TEST_DIR="$(mktemp -d "/tmp/strike-slurm-$id.XXXXXX")" || return 1
  export SLURM_TEST_DIR
  if [ "${SLURM_TEST_KEEP_TRAPS:-0}" != 1 ]; then
    trap 'slurm_down' EXIT
    trap 'slurm_down; trap - INT; kill -INT $$' INT
    trap 'slurm_down; trap - TERM; kill -TERM $$' TERM
  fi
  d="$SLURM_TEST_DIR"
  # Slurm's commands take many options from the environment (SLURM_JOB_ID, SLURM_NTASKS, SBATCH_*...): a
  # test run inside a real Slurm job would hand that job's settings to the test cluster (srun would look
  # for the outer job's id there). Only the harness's own SLURM_TEST_* and SLURM_CONF remain.
  for i in $(compgen -v); do
    case "$i" in
      SLURM_TEST_*|SLURM_SKIP_REASON) ;;
      SLURM_*|SBATCH_*|SALLOC_*|SRUN_*|SQUEUE_*|SINFO_*|SCANCEL_*|SCONTROL_*) unset "$i" 2>/dev/null ;;
    esac
  done
  chmod 0755 "$d"   # (mktemp: 0700) munged wants its socket reachable by every user; so would jobs of others
  mkdir -p "$d/munge" "$d/state" "$d/spool" "$d/log" "$d/run" "$d/tmp" && chmod 0700 "$d/state" || { slurm_down; return 1; }
  export SLURM_TEST_LOG_DIR="$d/log" SLURM_TEST_JOBCOMP_LOG="$d/log/jobcomp.log" SLURM_TEST_MUNGE_SOCKET="$d/munge/munge.socket"

  # munged: a fresh key, owned by root (the user munged runs as) and readable by nobody else.
  mungekey --create --keyfile="$d/munge/munge.key" 2>"$d/log/mungekey.log" && chmod 0400 "$d/munge/munge.key" ||
    { echo "slurm_up: mungekey failed: $(cat "$d/log/mungekey.log")" >&2; slurm_down; return 1; }
  # Every path munged would use by default (/etc/munge, /run/munge, /var/lib/munge, /var/log/munge) given
  # here instead; in the foreground it logs to stderr. --force is not needed on this machine as root, but
  # turns munged's refusals over a directory's permissions (a /tmp with unusual modes) or a leftover
  # socket into warnings.
  STRIKE_SLURM_DIR="$d" munged --foreground --force --socket="$SLURM_TEST_MUNGE_SOCKET" --key-file="$d/munge/munge.key" \
    --pid-file="$d/munge/munged.pid" --seed-file="$d/munge/munged.seed" --num-threads=2 \
    </dev/null >>"$d/log/munged.log" 2>&1 &
  echo $! >"$d/run/munged.fg.pid"
  for i in $(seq 100); do
    [ -S "$SLURM_TEST_MUNGE_SOCKET" ] && munge -S "$SLURM_TEST_MUNGE_SOCKET" -n 2>/dev/null | unmunge -S "$SLURM_TEST_MUNGE_SOCKET" >/dev/null 2>&1 && break
    kill -0 "$(cat "$d/run/munged.fg.pid")" 2>/dev/null || break
    sleep 0.1
  done
  munge -S "$SLURM_TEST_MUNGE_SOCKET" -n 2>/dev/null | unmunge -S "$SLURM_TEST_MUNGE_SOCKET" >/dev/null 2>&1 ||
    { echo "slurm_up: munged did not come up" >&2; slurm_logs >&2; slurm_down; return 1; }

  host="$(hostname -s)"; cpus="$(nproc)"
  mem_kb="$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)"
  mem=$(( mem_kb / 1024 * 9 / 10 ))   # MB, a bit under what slurmd finds (config_overrides: no drain either way)
  SLURM_TEST_CTLD_PORT="$(_slurm_free_port $(( id * 2 )))" && SLURM_TEST_SLURMD_PORT="$(_slurm_free_port $(( id * 2 + 1 )) "$SLURM_TEST_CTLD_PORT")" ||
    { echo "slurm_up: no free ports" >&2; slurm_down; return 1; }
  export SLURM_TEST_NODE="$host" SLURM_TEST_CPUS="$cpus" SLURM_TEST_PARTITION=debug SLURM_TEST_CTLD_PORT SLURM_TEST_SLURMD_PORT
  : >"$d/plugstack.conf"   # not /etc/slurm/plugstack.conf
  cat >"$d/slurm.conf" <<EOF
# Generated by tests/e2e/slurm_cluster.sh for one test run; removed with the run.
ClusterName=strike-test
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$SLURM_TEST_CTLD_PORT
SlurmdPort=$SLURM_TEST_SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$SLURM_TEST_MUNGE_SOCKET,cred_expire=${SLURM_TEST_CRED_EXPIRE:-10}
CredType=cred/munge
StateSaveLocation=$d/state
SlurmdSpoolDir=$d/spool
SlurmctldPidFile=$d/run/slurmctld.pid
SlurmdPidFile=$d/run/slurmd.pid
SlurmctldLogFile=$d/log/slurmctld.log
SlurmdLogFile=$d/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
PlugStackConfig=$d/plugstack.conf
TmpFS=$d/tmp
MailProg=/bin/true
# No cgroup plugins: processes tracked by parentage, no CPU binding, no accounting (no slurmdbd).
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$d/log/jobcomp.log
SwitchType=switch/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
# Pending jobs looked at every 2 s (defaults: 60 s, backfill 30 s): a requeued job starts soon after its
# BeginTime, which is not an event that wakes the scheduler.
SchedulerParameters=sched_interval=2,bf_interval=2
SlurmdParameters=config_overrides
ReturnToService=2
JobRequeue=1
KillWait=3
MinJobAge=60
InactiveLimit=0
Waittime=0
SlurmctldTimeout=60
SlurmdTimeout=60
MessageTimeout=20
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
  export SLURM_CONF="$d/slurm.conf"

  STRIKE_SLURM_DIR="$d" slurmctld -D -i -f "$SLURM_CONF" </dev/null >>"$d/log/slurmctld.out" 2>&1 &
  echo $! >"$d/run/slurmctld.fg.pid"
  STRIKE_SLURM_DIR="$d" slurmd -D -f "$SLURM_CONF" </dev/null >>"$d/log/slurmd.out" 2>&1 &
  echo $! >"$d/run/slurmd.fg.pid"

  deadline=$(( SECONDS + ${SLURM_TEST_UP_TIMEOUT:-60} ))
  state=""
  while [ "$SECONDS" -lt "$deadline" ]; do
    state="$(sinfo -h -n "$host" -o %T 2>/dev/null | head -1)"
    [ "$state" = idle ] && return 0
    for i in slurmctld slurmd; do
      kill -0 "$(cat "$d/run/$i.fg.pid")" 2>/dev/null ||
        { echo "slurm_up: $i exited: $(tail -n 5 "$d/log/$i.out")" >&2; slurm_logs >&2; slurm_down; return 1; }
    done
    sleep 0.5
  done
  echo "slurm_up: node $host not idle after ${SLURM_TEST_UP_TIMEOUT:-60} s (state '${state:-no answer}')" >&2
  slurm_logs >&2
  slurm_down
  return 1
}

# Stops everything slurm_up started; safe to call twice, after a partial slurm_up, or from a trap.
slurm_down() {
  local d="${SLURM_TEST_DIR:-}"
  [ -n "$d" ] && [ -d "$d" ] || return 0
  _slurm_stop "$d"
  rm -rf "$d"
  return 0
}

# slurm_job_state JOBID: PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, TIMEOUT... (UNKNOWN if not found).
slurm_job_state() {
  local id="$1" s
  s="$(scontrol -o show job "$id" 2>/dev/null | grep -oE 'JobState=[A-Z_]+' | head -1)"
  if [ -z "$s" ] && [ -f "${SLURM_TEST_JOBCOMP_LOG:-}" ]; then
    if [[ "$id" == *_* ]]; then
      s="$(grep -E "ArrayJobId=${id%_*} ArrayTaskId=${id#*_} " "$SLURM_TEST_JOBCOMP_LOG" | tail -1 | grep -oE 'JobState=[A-Z_]+')"
    else
      s="$(grep -E "^JobId=$id " "$SLURM_TEST_JOBCOMP_LOG" | tail -1 | grep -oE 'JobState=[A-Z_]+')"
    fi
  fi
  if [ -n "$s" ]; then echo "${s#JobState=}"; else echo UNKNOWN; fi
}

# slurm_wait_job JOBID SECONDS [STATE...]: waits for one of the states (default: any final state) and
# sets SLURM_TEST_JOB_STATE to the last state seen; 1 on timeout. It runs in the calling shell (no $(...)
# around it), so that shell's traps are not held up by a long wait in a subshell.
slurm_wait_job() {
  local id="$1" secs="$2" deadline w
  shift 2
  (($#)) || set -- COMPLETED FAILED CANCELLED TIMEOUT NODE_FAIL OUT_OF_MEMORY PREEMPTED BOOT_FAIL DEADLINE
  deadline=$(( SECONDS + secs ))
  while :; do
    SLURM_TEST_JOB_STATE="$(slurm_job_state "$id")"
    for w in "$@"; do [ "$SLURM_TEST_JOB_STATE" = "$w" ] && return 0; done
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.5
  done
}

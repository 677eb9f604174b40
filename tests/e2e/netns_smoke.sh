#!/usr/bin/env bash
# Two test hosts (network namespaces on a bridge, see netns_hosts.sh) and a 2-rank MPI job across them
# with `mpirun --hostfile` over TCP: 2 ranks on 2 different hostnames, local rank 0 on each, a right
# all-reduce (small and 8 MB), a variable passed with -x arrives (one not passed does not), and
# arguments with spaces and shell metacharacters arrive intact. Prints a short ping-pong figure.
# Exit 0 pass, 77 skipped (not root, no netns, no mpicc), anything else fail.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/netns_hosts.sh"
netns_available || { echo "skip: $NETNS_SKIP_REASON"; exit 77; }
command -v mpicc >/dev/null || { echo "skip: mpicc not installed (libopenmpi-dev)"; exit 77; }
netns_up || { echo "FAIL: netns_up"; exit 1; }
echo "test hosts: $NETNS_HOST1=$NETNS_IP1 $NETNS_HOST2=$NETNS_IP2 (mpirun at $NETNS_ROOT_IP on $NETNS_BRIDGE)"

cat >"$NETNS_DIR/probe.c" <<'C'
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void pingpong(int rank, int bytes, int iters) {
  char *buf = calloc(bytes ? bytes : 1, 1);
  MPI_Barrier(MPI_COMM_WORLD);
  double t0 = MPI_Wtime();
  for (int i = 0; i < iters; ++i) {
    if (rank == 0) {
      MPI_Send(buf, bytes, MPI_CHAR, 1, 0, MPI_COMM_WORLD);
      MPI_Recv(buf, bytes, MPI_CHAR, 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    } else if (rank == 1) {
      MPI_Recv(buf, bytes, MPI_CHAR, 0, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      MPI_Send(buf, bytes, MPI_CHAR, 0, 0, MPI_COMM_WORLD);
    }
  }
  double half = (MPI_Wtime() - t0) / iters / 2;
  if (rank == 0)
    printf("pingpong bytes=%d one_way_us=%.1f MB_per_s=%.0f\n", bytes, half * 1e6, bytes / half / 1e6);
  free(buf);
}

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, size, local_rank, local_size, len;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  MPI_Comm local;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &local);
  MPI_Comm_rank(local, &local_rank);
  MPI_Comm_size(local, &local_size);
  char host[256] = "", proc[MPI_MAX_PROCESSOR_NAME] = "";
  gethostname(host, sizeof host);
  MPI_Get_processor_name(proc, &len);

  long one = rank + 1, sum = 0;
  MPI_Allreduce(&one, &sum, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
  const int n = 1 << 20;  /* 8 MB of doubles: many TCP segments, the rendezvous protocol */
  double *v = malloc(n * sizeof *v);
  for (int i = 0; i < n; ++i) v[i] = (rank + 1) * (double)(i % 1000);
  MPI_Allreduce(MPI_IN_PLACE, v, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  int big_ok = 1;
  for (int i = 0; i < n; ++i) big_ok &= v[i] == size * (size + 1) / 2 * (double)(i % 1000);
  free(v);

  const char *passed = getenv("STRIKE_NETNS_PASSED"), *leaked = getenv("STRIKE_NETNS_NOT_PASSED");
  printf("rank=%d size=%d host=%s proc=%s local_rank=%d local_size=%d sum=%ld big_ok=%d\n", rank, size, host,
         proc, local_rank, local_size, sum, big_ok);
  printf("rank=%d env=[%s] leaked=[%s] argc=%d\n", rank, passed ? passed : "(unset)", leaked ? leaked : "(unset)", argc);
  for (int i = 1; i < argc; ++i) printf("rank=%d arg%d=[%s]\n", rank, i, argv[i]);
  fflush(stdout);
  MPI_Barrier(MPI_COMM_WORLD);
  if (size == 2) {
    /* few iterations: on a loaded 2-core machine a busy-polling round trip can take a scheduler
       time slice (~3 ms) instead of ~40 us, and the figure is only informational */
    pingpong(rank, 8, 200);
    pingpong(rank, 4 << 20, 10);
  }
  MPI_Comm_free(&local);
  MPI_Finalize();
  return 0;
}
C
mpicc -O2 -o "$NETNS_DIR/probe" "$NETNS_DIR/probe.c" || { echo "FAIL: mpicc"; exit 1; }

export STRIKE_NETNS_PASSED='two words, "quotes" $HOME `x` \ ;|&'
export STRIKE_NETNS_NOT_PASSED=leak
arg1='a b  c'; arg2='it'"'"'s "quoted" $PATH `id` ; & | \ *'; arg3=''
out="$(timeout 120 mpirun -np 2 --hostfile "$NETNS_HOSTFILE" $NETNS_MPIRUN_ARGS -x STRIKE_NETNS_PASSED \
  "$NETNS_DIR/probe" "$arg1" "$arg2" "$arg3" 2>&1)"
rc=$?
echo "$out"
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
[ "$rc" -eq 0 ] || fail "mpirun exited $rc"

line() { grep -E "^rank=$1 $2" <<<"$out" | head -1; }
field() { sed -nE "s/.* $2=([^ ]*).*/\1/p" <<<"$(line "$1" 'size=')"; }
for r in 0 1; do
  [ -n "$(line $r 'size=')" ] || { fail "no output from rank $r"; continue; }
  [ "$(field $r size)" = 2 ] || fail "rank $r: size $(field $r size), want 2"
  [ "$(field $r local_rank)" = 0 ] || fail "rank $r: local rank $(field $r local_rank), want 0 (one rank per host)"
  [ "$(field $r local_size)" = 1 ] || fail "rank $r: local size $(field $r local_size), want 1"
  [ "$(field $r sum)" = 3 ] || fail "rank $r: all-reduce sum $(field $r sum), want 3"
  [ "$(field $r big_ok)" = 1 ] || fail "rank $r: 8 MB all-reduce wrong"
  [ "$(field $r proc)" = "$(field $r host)" ] || fail "rank $r: processor name $(field $r proc) != hostname $(field $r host)"
  [ "$(line $r 'env=')" = "rank=$r env=[$STRIKE_NETNS_PASSED] leaked=[(unset)] argc=4" ] ||
    fail "rank $r: environment or argc wrong: $(line $r 'env=')"
  [ "$(line $r 'arg1=')" = "rank=$r arg1=[$arg1]" ] || fail "rank $r: arg1 mangled"
  [ "$(line $r 'arg2=')" = "rank=$r arg2=[$arg2]" ] || fail "rank $r: arg2 mangled"
  [ "$(line $r 'arg3=')" = "rank=$r arg3=[]" ] || fail "rank $r: empty arg3 lost"
done
h0="$(field 0 host)"; h1="$(field 1 host)"
[ "$h0" = "$NETNS_HOST1" ] || fail "rank 0 ran on '$h0', want $NETNS_HOST1"
[ "$h1" = "$NETNS_HOST2" ] || fail "rank 1 ran on '$h1', want $NETNS_HOST2"
grep -q '^pingpong bytes=4194304' <<<"$out" || fail "no ping-pong figure"

if [ "$failures" -ne 0 ]; then echo "$failures failure(s)"; exit 1; fi
echo "ok: 2 ranks on $h0 and $h1 over TCP ($NETNS_SUBNET)"

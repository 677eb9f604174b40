#!/usr/bin/env bash
# `strike train --ranks 2 --hostfile` across two test hosts (network namespaces on a bridge, each
# with its own hostname): one rank per host over TCP, each local rank 0 on its host, and the same
# metrics as the same job over shared memory on one host; a rank killed on the other host is
# noticed by the launcher's coordination server and the job recovers with the same metrics.
source "$(dirname "$0")/fmnist_subset.sh" "$@"
source "$here/netns_hosts.sh"
netns_available || { echo "SKIP: $NETNS_SKIP_REASON"; exit 77; }
convert_subset 1000 200
netns_up || fail "could not create the test hosts"
trap 'netns_down; rm -rf "$work"' EXIT
py=/usr/bin/python3
args=(train --data "$work/data" --ranks 2 --epochs 3 --batch-size 32 --seed 9 --threads 1 --progress none
      --checkpoint-every 4)
# Ranks in the test hosts reach the launcher's coordination server at the root namespace's address.
across=(--hostfile "$NETNS_HOSTFILE" --coord-host "$NETNS_ROOT_IP")

# The launcher adds only what every job needs; how to reach these hosts comes from Open MPI's
# environment, as a site configuration would supply it.
(
  export OMPI_MCA_plm_rsh_agent="$NETNS_AGENT" OMPI_MCA_plm_rsh_no_tree_spawn=1 \
    OMPI_MCA_oob_tcp_if_include="$NETNS_SUBNET" OMPI_MCA_btl_tcp_if_include="$NETNS_SUBNET" \
    OMPI_MCA_pml=ob1 OMPI_MCA_btl=self,tcp OMPI_MCA_osc=^ucx OMPI_MCA_hwloc_base_binding_policy=none
  "$bin/strike" "${args[@]}" "${across[@]}" --output "$work/hosts" > "$work/hosts.log" 2>&1 \
    || { cat "$work/hosts.log"; fail "2-rank job across the test hosts"; }
  # A rank killed on the other host is noticed through the coordination server and the job is
  # restarted from its newest checkpoint.
  "$bin/strike" "${args[@]}" "${across[@]}" --max-restarts 1 --output "$work/kill" > "$work/kill.log" 2>&1 &
  launcher=$!
  for _ in $(seq 1 3000); do
    grep '"event":"checkpoint"' "$work/kill/events.jsonl" 2>/dev/null | grep -q '"step":8,' && break
    sleep 0.02
  done
  victim="$(grep '"event":"hello"' "$work/kill/events.jsonl" | grep '"rank":1,' | sed 's/.*"pid":\([0-9]*\).*/\1/')"
  grep '"event":"hello"' "$work/kill/events.jsonl" | grep '"rank":1,' | grep -q "\"host\":\"$NETNS_HOST2\"" \
    || fail "rank 1 did not report from $NETNS_HOST2"
  kill -9 "$victim"
  wait "$launcher" || { cat "$work/kill.log"; fail "the job with a rank killed on $NETNS_HOST2 did not recover"; }
  grep -q '"event":"restart"' "$work/kill/events.jsonl" || fail "no restart after killing rank 1 on $NETNS_HOST2"
) || fail "jobs across the test hosts"
"$bin/strike" "${args[@]}" --output "$work/shm" > "$work/shm.log" 2>&1 || { cat "$work/shm.log"; fail "2-rank job on one host"; }

for r in 0 1; do
  host="$([ $r = 0 ] && echo "$NETNS_HOST1" || echo "$NETNS_HOST2")"
  grep -q "rank $r of 2 on $host (local rank 0 of 1)" "$work/hosts/logs/rank-$r.log" \
    || { cat "$work/hosts/logs/rank-$r.log"; fail "rank $r did not run on $host as its only local rank"; }
done
grep -q "(local rank 1 of 2)" "$work/shm/logs/rank-1.log" || fail "on one host rank 1 should be local rank 1 of 2"
$py - "$work" <<'PY' || fail "metrics across hosts differ from the same job on one host"
import json, sys
a, b, c = (json.load(open(f"{sys.argv[1]}/{r}/summary.json")) for r in ("hosts", "shm", "kill"))
assert a["world_size"] == 2 and a["device"] == "cpu", a
assert a["metrics"] == b["metrics"], (a["metrics"], b["metrics"])
assert c["metrics"] == b["metrics"], ("killed and restarted", c["metrics"], b["metrics"])
print("across hosts = one host:", a["metrics"], f"({a['samples_per_sec']:.0f} vs {b['samples_per_sec']:.0f} samples/s)")
PY
echo "PASS"

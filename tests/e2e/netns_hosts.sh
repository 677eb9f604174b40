# shellcheck shell=bash
# Two "test hosts" on this machine for cross-node MPI tests (issue 3, "Across nodes"). Source it:
#
#   source tests/e2e/netns_hosts.sh
#   netns_available || { echo "skip: $NETNS_SKIP_REASON"; exit 77; }
#   netns_up || exit 1                 # also installs an EXIT/INT/TERM trap that calls netns_down
#   mpirun -np 2 --hostfile "$NETNS_HOSTFILE" $NETNS_MPIRUN_ARGS -x MY_VAR ./program args...
#
# Layout (ID = $$ of the sourcing shell, so concurrent tests never share anything):
#
#   root namespace: bridge sbrID, address 10.A.B.1/24   <- mpirun (the HNP) runs here
#     |- veth svIDa <-> eth0 in netns strike-h1-ID, 10.A.B.2, hostname strike-h1-ID
#     `- veth svIDb <-> eth0 in netns strike-h2-ID, 10.A.B.3, hostname strike-h2-ID
#
# Both hosts are remote to mpirun: it starts an orted in each through the agent (netns_agent.sh, copied
# into $NETNS_DIR), and the two ranks talk over TCP across the bridge. Why the root namespace gets an
# address on the bridge: mpirun stays an ordinary command in the caller's namespace (no wrapper around
# it, the same command line works for real hosts) and both ranks are started the same way, but each
# orted must then connect back to mpirun over Open MPI's out-of-band TCP channel, and the namespaces
# have no route to the root namespace other than this bridge. (The alternative, running mpirun inside
# strike-h1, would need no root address but would make one host special and the caller wrap mpirun.)
#
# Exported after netns_up:
#   NETNS_DIR          temp dir (hostfile, agent, anything the test wants to put there)
#   NETNS_HOSTFILE     "strike-h1-ID slots=N" / "strike-h2-ID slots=N" (N = NETNS_SLOTS, default 1)
#   NETNS_HOST1/2      host names = namespace names;  NETNS_IP1/2, NETNS_ROOT_IP, NETNS_SUBNET (CIDR)
#   NETNS_BRIDGE       bridge device;  NETNS_AGENT  the agent script
#   NETNS_MPIRUN_ARGS  Open MPI options as one word-split-safe string (no spaces inside any option);
#                      NETNS_MPIRUN_ARGV is the same as a bash array (not exported).
# Functions: netns_available, netns_up, netns_down (idempotent; safe from traps), netns_exec HOST CMD...
# (runs CMD inside a test host, with its hostname), netns_mpirun ARGS... (mpirun with hostfile + args).
# NETNS_KEEP_TRAPS=1 before netns_up: install no trap (then call netns_down yourself).

_netns_here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
NETNS_SKIP_REASON=""

# Returns 0 when this machine can make the test hosts; otherwise 1 with NETNS_SKIP_REASON set.
netns_available() {
  local t probe="strike-probe-$$"
  if [ "$(id -u)" != 0 ]; then NETNS_SKIP_REASON="not root (network namespaces need CAP_NET_ADMIN)"; return 1; fi
  for t in ip unshare hostname mpirun; do
    command -v "$t" >/dev/null 2>&1 || { NETNS_SKIP_REASON="'$t' not installed"; return 1; }
  done
  if ! ip netns add "$probe" 2>/dev/null; then NETNS_SKIP_REASON="'ip netns add' failed (no CAP_SYS_ADMIN or netns support)"; return 1; fi
  if ! ip netns exec "$probe" unshare --uts true 2>/dev/null; then
    ip netns del "$probe" 2>/dev/null
    NETNS_SKIP_REASON="cannot enter a network namespace with a new UTS namespace"; return 1
  fi
  ip netns del "$probe" 2>/dev/null
  if ! ip link add "sbp$$" type bridge 2>/dev/null; then NETNS_SKIP_REASON="cannot create a bridge"; return 1; fi
  ip link del "sbp$$" 2>/dev/null
  return 0
}

# Removes namespaces, bridges, /etc/netns entries and temp dirs left by earlier runs whose shell is gone
# (a test killed by SIGKILL, e.g. a ctest timeout, runs no trap).
_netns_sweep_stale() {
  local ns pid
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E '^strike-h[12]-[0-9]+$'); do
    pid="${ns##*-}"
    if ! kill -0 "$pid" 2>/dev/null; then
      ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
      ip netns del "$ns" 2>/dev/null
      rm -rf "/etc/netns/$ns"
      ip link del "sbr$pid" 2>/dev/null
    fi
  done
  for ns in /tmp/strike-netns-*.*; do
    pid="${ns#/tmp/strike-netns-}"; pid="${pid%%.*}"
    if [ -d "$ns" ] && [[ "$pid" =~ ^[0-9]+$ ]] && ! kill -0 "$pid" 2>/dev/null; then rm -rf "$ns"; fi
  done
  return 0
}

# Picks 10.A.B.0/24 from the id, moving on while any route other than the default one covers it.
_netns_pick_subnet() {
  local id="$1" i a b routes
  for i in $(seq 0 255); do
    a=$(( ((id >> 8) + i) % 200 + 50 )); b=$(( (id + 37 * i) % 256 ))
    # ip's output taken whole first: piped into grep -q, ip could die of SIGPIPE and, under the caller's
    # pipefail, make a used subnet look free.
    routes=$(ip -4 route show to match "10.$a.$b.1" 2>/dev/null || true)
    if [[ -z "$(grep -v '^default' <<<"$routes")" ]]; then
      echo "10.$a.$b"; return 0
    fi
  done
  return 1
}

netns_up() {
  local id="${NETNS_ID:-$$}" slots="${NETNS_SLOTS:-1}" net i h v ok suffix=(- a b)
  _netns_sweep_stale
  NETNS_ID="$id"
  NETNS_HOST1="strike-h1-$id"; NETNS_HOST2="strike-h2-$id"
  NETNS_BRIDGE="sbr$id"
  NETNS_DIR="$(mktemp -d "/tmp/strike-netns-$id.XXXXXX")" || return 1
  export NETNS_ID NETNS_HOST1 NETNS_HOST2 NETNS_BRIDGE NETNS_DIR
  if [ "${NETNS_KEEP_TRAPS:-0}" != 1 ]; then
    trap 'netns_down' EXIT
    trap 'netns_down; trap - INT; kill -INT $$' INT
    trap 'netns_down; trap - TERM; kill -TERM $$' TERM
  fi
  net="$(_netns_pick_subnet "$id")" || { echo "netns_up: no free 10.x.y.0/24" >&2; netns_down; return 1; }
  export NETNS_SUBNET="$net.0/24" NETNS_ROOT_IP="$net.1" NETNS_IP1="$net.2" NETNS_IP2="$net.3"

  {
    ip link add "$NETNS_BRIDGE" type bridge &&
    ip addr add "$NETNS_ROOT_IP/24" dev "$NETNS_BRIDGE" &&
    ip link set "$NETNS_BRIDGE" up
  } || { echo "netns_up: cannot create bridge $NETNS_BRIDGE" >&2; netns_down; return 1; }
  for i in 1 2; do
    h="strike-h$i-$id"; v="sv$id${suffix[i]}"   # svIDa, svIDb (<= 15 characters with the -p peer suffix)
    mkdir -p "/etc/netns/$h" &&
    printf '127.0.0.1 localhost\n%s %s\n%s %s\n%s %s\n' "$NETNS_IP1" "$NETNS_HOST1" "$NETNS_IP2" "$NETNS_HOST2" \
      "$NETNS_ROOT_IP" "strike-root-$id" >"/etc/netns/$h/hosts" &&
    ip netns add "$h" &&
    ip link add "$v" type veth peer name "$v-p" &&
    ip link set "$v" master "$NETNS_BRIDGE" &&
    ip link set "$v" up &&
    ip link set "$v-p" netns "$h" &&
    ip -n "$h" link set "$v-p" name eth0 &&
    ip -n "$h" addr add "$net.$((i + 1))/24" dev eth0 &&
    ip -n "$h" link set eth0 up &&
    ip -n "$h" link set lo up ||
      { echo "netns_up: cannot set up host $h" >&2; netns_down; return 1; }
  done

  printf '%s slots=%s\n%s slots=%s\n' "$NETNS_HOST1" "$slots" "$NETNS_HOST2" "$slots" >"$NETNS_DIR/hostfile"
  cp "$_netns_here/netns_agent.sh" "$NETNS_DIR/agent" && chmod +x "$NETNS_DIR/agent" || { netns_down; return 1; }
  export NETNS_HOSTFILE="$NETNS_DIR/hostfile" NETNS_AGENT="$NETNS_DIR/agent"

  # Open MPI options (no spaces inside any of them, so the string form word-splits safely).
  NETNS_MPIRUN_ARGV=(
    --mca plm_rsh_agent "$NETNS_AGENT"      # "ssh" = enter the namespace (see netns_agent.sh)
    --mca plm_rsh_no_tree_spawn 1           # mpirun starts every orted itself (no orted-to-orted ssh)
    --mca oob_tcp_if_include "$NETNS_SUBNET"  # orted <-> mpirun over the bridge only
    --mca btl_tcp_if_include "$NETNS_SUBNET"  # rank <-> rank over the bridge only
    --mca pml ob1                           # not UCX: it sees one kernel and would use shared memory across "hosts"
    --mca btl self,vader,tcp                # vader only between ranks of the same host, tcp across hosts
    --mca osc ^ucx                          # keep UCX out entirely
    --bind-to none                          # both hosts see the same cores: default core binding would pin both ranks to core 0
  )
  [ "$(id -u)" = 0 ] && NETNS_MPIRUN_ARGV+=(--allow-run-as-root)
  export NETNS_MPIRUN_ARGS="${NETNS_MPIRUN_ARGV[*]}"

  # The network must carry TCP both ways (a bridge filtered by br_netfilter + iptables would not): a
  # connect to a closed port must come back "refused" (no ping needed, so no iputils-ping). The links
  # take a moment to get carrier after `up`, so each check retries for up to 5 s.
  for h in "$NETNS_HOST1" "$NETNS_HOST2"; do
    for v in "$NETNS_ROOT_IP" "$NETNS_IP1" "$NETNS_IP2"; do
      ok=0
      for i in $(seq 50); do
        # (no pipe into grep -q: under the caller's pipefail the refused connect would fail the pipe)
        [[ "$(ip netns exec "$h" timeout 2 bash -c "exec 3<>/dev/tcp/$v/1" 2>&1)" == *refused* ]] && { ok=1; break; }
        sleep 0.1
      done
      [ "$ok" = 1 ] || {
          echo "netns_up: $h cannot reach $v across bridge $NETNS_BRIDGE (firewall on bridged traffic?)" >&2
          netns_down; return 1; }
    done
  done
  return 0
}

# Removes everything netns_up made; safe to call twice, after a partial netns_up, or from a trap.
netns_down() {
  local id="${NETNS_ID:-}" h
  [ -n "$id" ] || return 0
  for h in "strike-h1-$id" "strike-h2-$id"; do
    if [ -e "/var/run/netns/$h" ]; then
      ip netns pids "$h" 2>/dev/null | xargs -r kill -9 2>/dev/null
      ip netns del "$h" 2>/dev/null
    fi
    rm -rf "/etc/netns/$h"
  done
  ip link del "sbr$id" 2>/dev/null   # the veths went with their namespaces
  if [ -n "${NETNS_DIR:-}" ] && [ -d "$NETNS_DIR" ]; then rm -rf "$NETNS_DIR"; fi
  return 0
}

# netns_exec HOST COMMAND [ARGS...]: runs an argv inside a test host (its namespace and hostname).
netns_exec() {
  local h="$1"; shift
  ip netns exec "$h" unshare --uts -- /bin/sh -c 'hostname "$0" && exec "$@"' "$h" "$@"
}

# netns_mpirun ARGS...: mpirun across the two test hosts.
netns_mpirun() {
  mpirun --hostfile "$NETNS_HOSTFILE" "${NETNS_MPIRUN_ARGV[@]}" "$@"
}

#!/usr/bin/env bash
# Open MPI's remote-shell agent (plm_rsh_agent) for the test hosts of netns_hosts.sh: a stand-in for
# ssh that "logs in" to a host by entering the network namespace of the same name.
#
#   netns_agent.sh [ssh-style options] HOST COMMAND [ARGS...]
#
# Open MPI calls its agent exactly like ssh: the remote command (`orted -mca ess env ... -mca
# orte_hnp_uri "...;tcp://..."`, sometimes prefixed with `PATH=...; export PATH;`) arrives as several
# words that are already quoted for a remote shell. So, as ssh does, the words are joined with single
# spaces and handed to `sh -c` -- never exec'd as an argv, which would keep the literal quotes.
#
# The command runs:
#  - in network namespace HOST (`ip netns exec`, which also bind-mounts /etc/netns/HOST/hosts over
#    /etc/hosts, so the test hosts resolve each other's names);
#  - in a new UTS namespace whose hostname is HOST (`unshare --uts`), so Open MPI, gethostname() and
#    MPI_Get_processor_name() see two different nodes;
#  - with a clean environment like a fresh ssh login: only PATH, HOME, USER, LOGNAME and SHELL survive,
#    so a variable reaches the ranks only when it is passed with `mpirun -x NAME` (as across real nodes).
#    PATH is kept from the caller (mpirun) so that orted is found where mpirun was found.
#  - in $HOME, as after ssh (orted changes to the job's working directory itself).
# Exit status: the command's, or 255 (as ssh) when the host is unknown or the namespace can't be entered.
set -u

# Skip ssh-style options (plm_rsh_args may add some); the ones listed take a value.
while [ $# -gt 0 ]; do
  case "$1" in
    --) shift; break ;;
    -[bcDEeFIiJLlmOopQRSWw]) shift 2 ;;
    -?*) shift ;;
    *) break ;;
  esac
done
if [ $# -lt 1 ]; then
  echo "netns_agent: usage: $0 [options] HOST COMMAND..." >&2
  exit 255
fi
host="$1"; shift
if [ $# -eq 0 ]; then
  echo "netns_agent: no command for host '$host' (interactive logins are not supported)" >&2
  exit 255
fi
if [ ! -e "/var/run/netns/$host" ]; then
  echo "netns_agent: no network namespace '$host' (is the host name in the hostfile one made by netns_up?)" >&2
  exit 255
fi
command="$*"   # ssh semantics: the words joined with spaces, parsed again by the remote shell
if [ -n "${NETNS_AGENT_LOG:-}" ]; then
  printf '%s agent: host=%s argc=%d command=%s\n' "$(date +%T.%N)" "$host" $# "$command" >>"$NETNS_AGENT_LOG"
fi

exec ip netns exec "$host" unshare --uts -- \
  env -i PATH="$PATH" HOME="${HOME:-/}" USER="$(id -un)" LOGNAME="$(id -un)" SHELL=/bin/sh \
  /bin/sh -c 'hostname "$1" || exit 255; cd "$HOME" 2>/dev/null || cd /; exec /bin/sh -c "$2"' \
  netns-agent "$host" "$command"

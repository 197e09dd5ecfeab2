#!/usr/bin/env bash
# Data-parallel training across two hosts, not loopback (docs/distributed.md, "Two hosts on one
# machine"): two network namespaces joined by a veth pair, 10.77.0.1 and 10.77.0.2, each a host of
# its own to OpenMPI. mpirun runs in the first; its remote agent (--mca plm_rsh_agent, ssh's
# stand-in) starts the daemon of the second host with `ip netns exec`. The ranks talk over TCP on
# the veth only (--mca btl tcp,self: no shared memory), and the 2-rank run must equal one process
# (losses, diagnostics, final weights within 1e-5). Skipped (77), with the reason, where the
# machine forbids network namespaces (not root, no CAP_NET_ADMIN, no iproute2).
# Called by ctest as: bash test_mpi_two_hosts.sh PATH_TO_normlab REPO_ROOT
set -euo pipefail
NL=$(realpath "$1")
ROOT=$(realpath "$2")
W=$(mktemp -d)
# Names unique to this run (interface names have at most 15 characters).
A=nlhostA$$ B=nlhostB$$
cleanup() {
  local ns pid
  for ns in "$A" "$B"; do  # the processes this test started in them, then the namespaces
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true
  done
  rm -rf "$W"
}
trap cleanup EXIT
# shellcheck source=lib.sh
source "$ROOT/tests/cli/lib.sh"
# shellcheck source=mpi_lib.sh
source "$ROOT/tests/cli/mpi_lib.sh"
require_mpi
require_corpus
cd "$W"

if ! command -v ip >/dev/null; then
  echo "SKIP: no 'ip' command (apt-get install iproute2, scripts/setup.sh)"
  exit 77
fi
if ! out=$(ip netns add "$A" 2>&1); then
  echo "SKIP: this machine forbids network namespaces: ip netns add: $out"
  exit 77
fi
ip netns add "$B"
if ! out=$(ip link add "v$A" type veth peer name "v$B" 2>&1); then
  echo "SKIP: this machine has no veth pairs: ip link add ... type veth: $out"
  exit 77
fi
ip link set "v$A" netns "$A"
ip link set "v$B" netns "$B"
ip -n "$A" addr add 10.77.0.1/24 dev "v$A"
ip -n "$B" addr add 10.77.0.2/24 dev "v$B"
for ns in "$A" "$B"; do
  ip -n "$ns" link set lo up
  ip -n "$ns" link set "v$ns" up
done
ok "two network namespaces joined by a veth pair: 10.77.0.1 ($A), 10.77.0.2 ($B)"

# The remote agent: OpenMPI calls it as `AGENT HOST COMMAND...` (as it would call ssh) and it runs
# COMMAND in HOST's namespace, logging where.
cat >agent.sh <<EOF
#!/bin/sh
host=\$1
shift
case "\$host" in
  10.77.0.1) ns=$A ;;
  10.77.0.2) ns=$B ;;
  *) echo "agent: unknown host \$host" >&2; exit 1 ;;
esac
echo "\$host \$ns" >>"$W/agent.log"
exec ip netns exec "\$ns" /bin/sh -c "\$*"
EOF
chmod +x agent.sh
NET=(--host 10.77.0.1,10.77.0.2 --mca plm_rsh_agent "$W/agent.sh" --mca btl tcp,self
     --mca btl_tcp_if_include 10.77.0.0/24 --mca oob_tcp_if_include 10.77.0.0/24)

check "prepare" "$NL" prepare --input "$CORPUS_FILES" --vocab_size $VOCAB --out_dir data
LM=("${TINY[@]}" --data data --precision fp32 --seed 5 --dropout 0.1 --grad_accum 2 --lr 3e-3
    --warmup 5 --log_every 1 --diag_every 5 --eval_every 10 --save_every 10 --threads 1)
check "one process, 20 steps" "$NL" train "${LM[@]}" --out_dir one --steps 20
check "2 ranks on two hosts over TCP, 20 steps" \
  timeout 300 ip netns exec "$A" mpirun -np 2 "${NET[@]}" "$NL" train "${LM[@]}" --out_dir two \
  --steps 20
check "the second host's daemon was started in its own namespace" grep -qx "10.77.0.2 $B" agent.log
check "two hosts = 1 process: losses, diagnostics, weights (1e-5)" compare one two 20
finish

#!/usr/bin/env bash
# Data-parallel scaling on one machine (docs/distributed.md, "Measured"): the bench's reference
# model (Pre-LN, vocab 4096, d 256, 4 heads, 6 layers, d_ff 1024, T 128, fp32) with a global batch
# of 16 sequences (2 micro-batches of 8) trained by
#   a) 1 rank x 2 threads   b) 2 ranks x 1 thread (mpirun)   c) 1 rank x 1 thread
# for the same steps. Prints the fastest and median step time of each (from metrics.jsonl; warm-up
# and the last, probed step left out), the 2-rank run's time in the gradient allreduce and in
# waiting for the other rank (summary.json "gradient_sum", measured inside the trainer:
# src/train/distributed.cpp), and the ring allreduce model's prediction for 8 and 64 nodes at
# 25 Gb/s from these figures.
#   bash bench/mpi_scaling.sh [--steps N] [--out DIR]   (default 20 steps, runs/mpi-scaling)
# Environment: BUILD_DIR (default build/), NORMLAB (a built normlab to use instead of building
# one), ALPHA_US (per-message latency of the modelled network, default 15), LINK_GBPS (default 25).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$repo/build}"
steps=20
out="$repo/runs/mpi-scaling"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --steps) steps="$2"; shift ;;
    --out) out="$2"; shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "bench/mpi_scaling.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
nl="${NORMLAB:-}"
if [[ -z "$nl" ]]; then
  cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$build" -j2 --target normlab >/dev/null
  nl="$build/normlab"
fi
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# Ranks and threads wait passively: on 2 shared cores a spinning thread takes the other's core.
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}"
data="$out/fortunes-4096"
[[ -f "$data/meta.json" ]] || "$nl" prepare --out_dir "$data" --vocab_size 4096 >/dev/null
MODEL=(--data "$data" --precision fp32 --placement pre --norm layernorm --d_model 256 --n_heads 4
       --n_layers 6 --d_ff 1024 --seq_len 128 --batch_size 8 --grad_accum 2 --dropout 0
       --steps "$steps" --log_every 1 --eval_every 0 --eval_batches 1 --diag_every 0
       --save_every 100000 --progress false --overwrite)
load() { cut -d' ' -f1-3 /proc/loadavg; }
load_before="$(load)"
echo "== a) 1 rank x 2 threads (load average: $(load))" >&2
"$nl" train "${MODEL[@]}" --threads 2 --out_dir "$out/1x2" 2>/dev/null
echo "== b) 2 ranks x 1 thread (load average: $(load))" >&2
mpirun -q -np 2 --bind-to core --map-by core --mca btl self,vader,tcp \
  --mca btl_vader_single_copy_mechanism none -x OMP_WAIT_POLICY \
  "$nl" train "${MODEL[@]}" --threads 1 --out_dir "$out/2x1" 2>/dev/null
echo "== c) 1 rank x 1 thread (load average: $(load))" >&2
"$nl" train "${MODEL[@]}" --threads 1 --out_dir "$out/1x1" 2>/dev/null
echo "load average (1/5/15 min) before: $load_before, after: $(load)"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
ALPHA_US="${ALPHA_US:-15}" LINK_GBPS="${LINK_GBPS:-25}" /usr/bin/python3 - "$out" <<'PY'
import json, os, statistics, sys
out = sys.argv[1]
# On a shared machine a step is slowed by whatever else runs: the fastest step is the least
# disturbed estimate of the machine's own speed, the median the typical one. Both are printed; the
# model takes the fastest.
def step_times(run):  # wall seconds per step: tokens of a step / tokens_per_s of its line
    lines = [json.loads(l) for l in open(f"{out}/{run}/metrics.jsonl")]
    steps = [l for l in lines if "tokens_per_s" in l]
    tokens = 2 * 8 * 128  # grad_accum x batch_size x seq_len
    middle = steps[2:-1] or steps  # step 1 follows the step-0 evaluation; the last is probed
    t = [tokens / l["tokens_per_s"] for l in middle]
    return min(t), statistics.median(t)
(a, a_med), (b, b_med), (c, c_med) = step_times("1x2"), step_times("2x1"), step_times("1x1")
g = json.load(open(f"{out}/2x1/summary.json"))["gradient_sum"]
n = g["steps"]
comm, comm_mean, wait = g["fastest_allreduce_s"], g["allreduce_s"] / n, g["wait_s"] / n
nbytes, buckets = g["bytes"] / n, g["allreduces"] / n
print("fastest / median step:")
print(f"a) 1 rank x 2 threads: {a * 1e3:.0f} / {a_med * 1e3:.0f} ms")
print(f"b) 2 ranks x 1 thread: {b * 1e3:.0f} / {b_med * 1e3:.0f} ms ({b / a:.2f} / "
      f"{b_med / a_med:.2f} x a)")
print(f"c) 1 rank x 1 thread: {c * 1e3:.0f} / {c_med * 1e3:.0f} ms "
      f"({c / 2 * 1e3:.0f} ms per micro-batch of 8 sequences, fastest)")
print(f"b's gradient allreduce: {nbytes / 1e6:.1f} MB in {buckets:.0f} allreduce(s) per step; "
      f"fastest {comm * 1e3:.1f} ms ({100 * comm / b:.1f}% of b's fastest step), mean "
      f"{comm_mean * 1e3:.1f} ms ({100 * comm_mean / b_med:.1f}% of b's median step); rank 0 waited "
      f"{wait * 1e3:.1f} ms per step for rank 1")
# Ring allreduce (Patarasuk & Yuan 2009; Thakur et al. 2005), alpha-beta model, p nodes:
#   T_comm(p) = 2 (p-1)/p * S / B + 2 (p-1) * alpha * buckets
alpha, B = float(os.environ["ALPHA_US"]) * 1e-6, float(os.environ["LINK_GBPS"]) * 1e9 / 8
def t_comm(p):
    return 2 * (p - 1) / p * nbytes / B + 2 * (p - 1) * alpha * buckets
print(f"model: S = {nbytes / 1e6:.1f} MB, B = {B / 1e9:.3f} GB/s, alpha = {alpha * 1e6:.0f} us, "
      f"{buckets:.0f} bucket(s); a node = this machine, T_node = a) = {a * 1e3:.0f} ms per 16 "
      "sequences")
for p in (8, 64):
    t = t_comm(p)
    print(f"  {p} nodes, 16 sequences per node (global batch {16 * p}): T_comm = {t * 1e3:.1f} ms, "
          f"T_step = {(a + t) * 1e3:.0f} ms, efficiency {a / (a + t):.1%}")
    # The same global batch of 1024 sequences (64 node-batches) whatever p: 64/p per node.
    ts = 64 / p * a + t
    print(f"  {p} nodes, global batch 1024 sequences ({64 // p} node-batches each): "
          f"T_step = {ts * 1e3:.0f} ms, speed-up {64 * a / ts:.1f} over one node ({64 * a:.1f} s)")
PY

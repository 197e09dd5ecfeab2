#!/usr/bin/env bash
# Data-parallel training (docs/distributed.md): `mpirun -np 2 normlab train` against one process
# with the same global batch (grad_accum micro-batches), fp32, for the language model and the
# encoder-decoder: the losses and gradient norms of 20 steps, the per-layer and per-parameter
# diagnostics and the final weights agree to 1e-5 relative; only rank 0 writes; a run started on 2
# ranks and resumed on 1 (and the reverse) continues the same losses. Skipped (77) without MPI.
# Called by ctest as: bash test_mpi_training.sh PATH_TO_normlab REPO_ROOT
set -euo pipefail
NL=$(realpath "$1")
ROOT=$(realpath "$2")
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
# shellcheck source=lib.sh
source "$ROOT/tests/cli/lib.sh"
# shellcheck source=mpi_lib.sh
source "$ROOT/tests/cli/mpi_lib.sh"
require_mpi
require_corpus
cd "$W"

# compare RUN_A RUN_B STEPS [metrics]: metrics (loss, grad_norm), diagnostics (every number) and the
# final checkpoint agree to 1e-5 relative, and both runs logged steps 1..STEPS; with "metrics",
# only the losses and gradient norms.
compare() {
  "$PY" - "$@" <<'PY'
import json, struct, sys
a, b, steps = sys.argv[1], sys.argv[2], int(sys.argv[3])
metrics_only = sys.argv[4:] == ["metrics"]
TOL = 1e-5
bad = []
def close(x, y):
    return abs(x - y) <= TOL * max(abs(x), abs(y), 1e-6)
def lines(run, name):
    return [json.loads(l) for l in open(f"{run}/{name}")]
def walk(x, y, where):
    if isinstance(x, dict):
        if set(x) != set(y): bad.append(f"{where}: keys differ"); return
        for k in x: walk(x[k], y[k], f"{where}.{k}")
    elif isinstance(x, list):
        if len(x) != len(y): bad.append(f"{where}: lengths differ"); return
        for i, (u, v) in enumerate(zip(x, y)): walk(u, v, f"{where}[{i}]")
    elif isinstance(x, float) and not close(x, y):
        bad.append(f"{where}: {x} vs {y}")
    elif not isinstance(x, float) and x != y and not (isinstance(x, int) and where.endswith("]")):
        if where.split(".")[-1] != "tokens_per_s": bad.append(f"{where}: {x!r} vs {y!r}")
ma = [l for l in lines(a, "metrics.jsonl") if "loss" in l]
mb = [l for l in lines(b, "metrics.jsonl") if "loss" in l]
if [l["step"] for l in ma] != list(range(1, steps + 1)): bad.append(f"{a}: steps {[l['step'] for l in ma]}")
for la, lb in zip(ma, mb):
    for k in ("step", "loss", "grad_norm", "lr"): walk(la[k], lb[k], f"metrics step {la['step']} {k}")
if metrics_only:
    print(f"{len(ma)} steps"); sys.exit(1 if bad else 0)
da, db = lines(a, "diagnostics.jsonl"), lines(b, "diagnostics.jsonl")
if len(da) != len(db) or len(da) < 3: bad.append(f"diagnostics: {len(da)} vs {len(db)} lines")
for la, lb in zip(da, db): walk(la, lb, f"diagnostics step {la['step']}")
def tensors(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    head = json.loads(raw[8:8 + n])
    out = {}
    for k, v in head.items():
        if k == "__metadata__": continue
        s, e = v["data_offsets"]
        out[k] = struct.unpack(f"<{(e - s) // 4}f", raw[8 + n + s:8 + n + e])
    return out
ta, tb = tensors(f"{a}/checkpoint.safetensors"), tensors(f"{b}/checkpoint.safetensors")
if set(ta) != set(tb): bad.append("checkpoint tensor names differ")
worst = 0.0
for k in ta:  # relative to the tensor's scale, so that weights near 0 do not divide by ~0
    scale = max(max(map(abs, ta[k])), 1e-6)
    worst = max(worst, max(abs(x - y) for x, y in zip(ta[k], tb[k])) / scale)
if worst > TOL: bad.append(f"final weights differ by {worst:.2e} relative")
print(f"{len(ma)} steps, {len(da)} diagnostics lines, weights within {worst:.1e}")
if bad:
    print("\n".join(bad[:20])); sys.exit(1)
PY
}

# ---- the language model: 4 micro-batches of 4 rows per step, split 2 + 2 over the ranks
check "prepare" "$NL" prepare --input "$CORPUS_FILES" --vocab_size $VOCAB --out_dir data
LM=("${TINY[@]}" --data data --precision fp32 --seed 5 --dropout 0.1 --grad_accum 4 --lr 3e-3
    --warmup 5 --clip_norm 0.5 --log_every 1 --diag_every 5 --eval_every 10 --save_every 10
    --threads 1)
check "one process, 20 steps" "$NL" train "${LM[@]}" --out_dir one --steps 20
check "mpirun -np 2, 20 steps" "${MPIRUN[@]}" -np 2 "$NL" train "${LM[@]}" --out_dir two --steps 20
check "2 ranks = 1 process: losses, gradient norms, diagnostics, weights (1e-5)" \
  compare one two 20
check "rank 0 alone wrote the run directory (no stray files of other ranks)" \
  test "$(ls two | sort | tr '\n' ' ')" = "$(ls one | sort | tr '\n' ' ')"
check "mpirun -np 3, 20 steps" "${MPIRUN[@]}" -np 3 "$NL" train "${LM[@]}" --out_dir three \
  --steps 20
# Blocks of 1, 1 and 2 micro-batches are not subtrees of the sum (training_step.hpp): the weights
# differ by rounding, which Adam amplifies in the key bias (its gradient is zero up to rounding:
# softmax ignores a constant added to every score); the losses still agree.
check "3 ranks over 4 micro-batches (uneven share): losses and gradient norms (1e-5)" \
  compare one three 20 metrics

# ---- resume with another rank count: 2 ranks to step 10, then 1 process to 20 (and 1 -> 2)
check "2 ranks, 10 steps" "${MPIRUN[@]}" -np 2 "$NL" train "${LM[@]}" --out_dir r21 --steps 10
check "resumed on 1 process to 20" "$NL" train "${LM[@]}" --out_dir r21 --steps 20 --resume
check "1 process, 10 steps" "$NL" train "${LM[@]}" --out_dir r12 --steps 10
check "resumed on 2 ranks to 20" "${MPIRUN[@]}" -np 2 "$NL" train "${LM[@]}" --out_dir r12 \
  --steps 20 --resume
check "2 -> 1 ranks continues the 20-step run" compare one r21 20
check "1 -> 2 ranks continues the 20-step run" compare one r12 20

# ---- the encoder-decoder: token-budget batches, 2 per step, one per rank
nouns=(house cat dog tree car book door window table chair)
nomen=(Haus Katze Hund Baum Auto Buch Tuer Fenster Tisch Stuhl)
for i in "${!nouns[@]}"; do
  for j in "${!nouns[@]}"; do
    echo "the ${nouns[$i]} and the ${nouns[$j]}" >>a.en
    echo "das ${nomen[$i]} und das ${nomen[$j]}" >>a.de
  done
done
check "prepare-parallel" "$NL" prepare-parallel --src a.en --tgt a.de --out_dir pdata \
  --vocab_size 300 --valid_fraction 0.1 --test_fraction 0.1
MT=(--arch encdec --data pdata --encoder_layers 2 --n_layers 2 --d_model 32 --n_heads 2 --d_ff 64
    --seq_len 32 --placement b2t --precision fp32 --lr 3e-3 --warmup 5 --batch_tokens 128
    --grad_accum 2 --dropout 0.1 --log_every 1 --diag_every 5 --eval_every 10 --eval_batches 2
    --progress false --seed 2 --threads 1)
check "encdec: one process, 20 steps" "$NL" train "${MT[@]}" --out_dir mt1 --steps 20
check "encdec: mpirun -np 2, 20 steps" "${MPIRUN[@]}" -np 2 "$NL" train "${MT[@]}" --out_dir mt2 \
  --steps 20
check "encdec: 2 ranks = 1 process (1e-5)" compare mt1 mt2 20
finish

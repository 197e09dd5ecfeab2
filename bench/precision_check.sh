#!/usr/bin/env bash
# Does bf16 change the science? Trains the bench's reference model (Pre-LN, vocab 4096, d 256,
# 4 heads, 6 layers, d_ff 1024, T 128, batch 16) for 500 steps on the bundled fortunes corpus
# twice, with --precision fp32 and --precision bf16 (emulated where the CPU has no bf16 kernels:
# same numerics, slower), then compares the validation losses (target: < 1 % apart) and the
# per-block diagnostics profiles (bench/compare_runs.py).
#   bash bench/precision_check.sh [--steps N] [--out DIR]     (default 500 steps, runs/precision)
# Environment: BUILD_DIR (default build/), THREADS (default 2), NORMLAB (a built binary to use
# instead of building one).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${BUILD_DIR:-$repo/build}"
steps=500
out="$repo/runs/precision"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --steps) steps="$2"; shift ;;
    --out) out="$2"; shift ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "bench/precision_check.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}"
nl="${NORMLAB:-}"
if [[ -z "$nl" ]]; then
  cmake -S "$repo" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$build" -j2 --target normlab >/dev/null
  nl="$build/normlab"
fi
data="$out/fortunes-4096"
[[ -f "$data/train.bin" ]] || "$nl" prepare --out_dir "$data" --vocab_size 4096
for p in fp32 bf16; do
  echo "== training the reference model, precision $p ($steps steps)" >&2
  "$nl" train --data "$data" --out_dir "$out/$p" --precision "$p" --threads "${THREADS:-2}" \
    --placement pre --norm layernorm --d_model 256 --n_heads 4 --n_layers 6 --d_ff 1024 \
    --seq_len 128 --batch_size 16 --steps "$steps" --lr 1e-3 --warmup 100 --schedule cosine \
    --min_lr 1e-4 --eval_every 100 --eval_batches 16 --diag_every 100 --log_every 50 \
    --save_every 0 --progress false
done
/usr/bin/python3 "$repo/bench/compare_runs.py" "$out/fp32" "$out/bf16"

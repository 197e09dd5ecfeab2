#!/usr/bin/env bash
# The cost of a sanity check against the real runs it predicts (docs/sanity-check.md, "Cost"):
# CPU seconds (user + system, /usr/bin/time) and wall seconds, one thread, of the check of the
# validation's config (placement pre, lr 1e-2, width 32) at depths 4, 8, 16 with the check's
# defaults, and of the three 300-step runs it predicts.
#   bash experiments/prediction/cost.sh        (after run.sh has prepared runs/prediction/data)
set -euo pipefail
cd "$(dirname "$0")/../.."
nl=${NORMLAB:-build/normlab}
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=passive
DATA=runs/prediction/data
ARGS=(--data "$DATA" --config experiments/prediction/config.yaml --d_model 32 --n_heads 2
  --d_ff 128 --placement pre --lr 1e-2 --seed 1)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
timed() { /usr/bin/time -f "%U %S %e" -o "$out/t" "$@" >/dev/null 2>&1; awk '{print $1 + $2, $3}' "$out/t"; }
read -r check_cpu check_wall < <(timed "$nl" sanity-check "${ARGS[@]}" --depths 4,8,16)
run_cpu=0 run_wall=0
for L in 4 8 16; do
  read -r c w < <(timed "$nl" train "${ARGS[@]}" --n_layers "$L" --progress false --out_dir "$out/L$L")
  echo "real run L=$L: $c CPU s, $w s wall"
  run_cpu=$(awk -v a="$run_cpu" -v b="$c" 'BEGIN {print a + b}')
  run_wall=$(awk -v a="$run_wall" -v b="$w" 'BEGIN {print a + b}')
done
echo "real runs L=4,8,16: $run_cpu CPU s, $run_wall s wall"
echo "sanity-check L=4,8,16 (defaults): $check_cpu CPU s, $check_wall s wall"
awk -v c="$check_cpu" -v r="$run_cpu" -v cw="$check_wall" -v rw="$run_wall" 'BEGIN {
  printf "check / runs: %.1f%% of the CPU time, %.1f%% of the wall time (target: under 20%%)\n",
    100 * c / r, 100 * cw / rw }'

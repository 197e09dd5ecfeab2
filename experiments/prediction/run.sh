#!/usr/bin/env bash
# The validation of `normlab sanity-check` (docs/sanity-check.md, "Validation"): real runs of a grid
# of 7 placements x 3 depths x 3 learning rates in seven sets: seed 1 at widths 32, 16 and 64
# (tuning), seed 2 at widths 32 and 64 (held out) and seed 2 at widths 16 and 48 (fresh held out;
# width 48 never used for tuning); a sanity-check of every (placement, lr, seed, width) over the
# same depths; then the confusion tables.
#   bash experiments/prediction/run.sh [train|check|tables|all]     (default: all)
# Resumable: a finished run (normlab sweep) or check (its JSON) is skipped, so rerunning the same
# command continues where it stopped. Run directories go to runs/prediction/; each finished run's
# summary.json and each check's JSON are copied to experiments/prediction/results/, from which
# `tables` rebuilds results.md without rerunning anything. ONLY="d32 2" restricts the train and check
# stages to one set (name and seed), so that sets can run in separate processes.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -x build/normlab ] || bash scripts/setup.sh
nl=${NORMLAB:-build/normlab}   # NORMLAB: another binary (e.g. a copy while rebuilding)
stage=${1:-all}
# One core, politely: the machine is shared.
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=passive
run() { nice -n 10 "$nl" "$@"; }
EXP=experiments/prediction
RUNS=runs/prediction
DATA=$RUNS/data
[ -f "$DATA/meta.json" ] || run prepare --out_dir "$DATA" --vocab_size 512

PLACEMENTS=${PLACEMENTS:-post,pre,peri,b2t,deepnorm,none,mixln}   # PLACEMENTS=...: a part of the grid
DEPTHS=4,8,16
LRS=1e-3,1e-2,1e-1
# name  d_model n_heads d_ff seeds
WIDTHS=("d32 32 2 128 1" "d32 32 2 128 2" "d16 16 1 64 1" "d64 64 2 256 2" "d64 64 2 256 1"
        "d16 16 1 64 2" "d48 48 2 192 2")

if [ "$stage" = train ] || [ "$stage" = all ]; then
  for w in "${WIDTHS[@]}"; do
    read -r name d heads ff seed <<<"$w"
    [ -z "${ONLY:-}" ] || [ "$ONLY" = "$name $seed" ] || continue
    run sweep --data "$DATA" --config $EXP/config.yaml --progress false \
      --d_model "$d" --n_heads "$heads" --d_ff "$ff" --out_dir "$RUNS/$name-s$seed" \
      --placements $PLACEMENTS --depths $DEPTHS --lrs $LRS --seeds "$seed"
    mkdir -p "$EXP/results/$name"
    for s in "$RUNS/$name-s$seed"/*/summary.json; do
      cp "$s" "$EXP/results/$name/$(basename "$(dirname "$s")").json"
    done
  done
fi

if [ "$stage" = check ] || [ "$stage" = all ]; then
  for w in "${WIDTHS[@]}"; do
    read -r name d heads ff seed <<<"$w"
    [ -z "${ONLY:-}" ] || [ "$ONLY" = "$name $seed" ] || continue
    mkdir -p "$EXP/results/$name/checks"
    for p in ${PLACEMENTS//,/ }; do
      for lr in ${LRS//,/ }; do
        out="$EXP/results/$name/checks/$p-lr$lr-s$seed.json"
        [ -f "$out" ] && continue
        run sanity-check --data "$DATA" --config $EXP/config.yaml \
          --d_model "$d" --n_heads "$heads" --d_ff "$ff" --placement "$p" --lr "$lr" \
          --seed "$seed" --depths $DEPTHS --json_out "$out.tmp" >/dev/null
        mv "$out.tmp" "$out"
        echo "check $name $p lr $lr seed $seed: done" >&2
      done
    done
  done
fi

if [ "$stage" = tables ] || [ "$stage" = all ]; then
  python3 $EXP/collect.py "$DATA/train.bin" "$EXP/results" >"$EXP/results.md"
  cat "$EXP/results.md"
fi

#!/usr/bin/env bash
# The seed papers' depth experiments on each paper's own recipe, with a learning-rate axis and two
# seeds (experiments/seeds/README.md says what is run, in which order, and how a run is classified):
#   Takase et al. (B2T): post, pre, b2t, and b2t with rescale_init, at 6 and 18 blocks;
#   Kan et al. 2025: pre and peri with dt 1 and 0.1, same depths;
#   lr 5e-4, 1e-3, 2e-3; seeds 1 and 2; the B2T recipe of experiments/seeds.yaml (scaled embeddings);
#   last, post / pre / b2t without scaled embeddings at lr 1e-3, seed 1 (the measuring stick);
#   extra rows: olmo2, siamese, ngpt, completep, subln, admin at lr 1e-3, seed 1.
#   bash experiments/reproduce-seeds.sh [train|tables|report|all]        (default: all)
# Resumable and committed as it goes: rerunning continues where it stopped (normlab sweep), and
# after every sweep call each finished run's summary.json, metrics.jsonl and thinned
# diagnostics.jsonl are copied to experiments/seeds/results/<group>/<run>/, from which `tables`
# (results.md) and `report` (report.html, figures/) are rebuilt without rerunning anything.
# Two copies at once use two cores: each sweep call skips a cell another copy is training.
# About 8 hours on one core of the project's machine (AMD EPYC, AVX2, shared): the most
# informative cells run first (seed 1 at 18 blocks, lr 1e-3 across every row, then 2e-3 and 5e-4;
# then 6 blocks; then seed 2), so a partial run already fills the headline table.
set -euo pipefail
cd "$(dirname "$0")/.."
nl=${NORMLAB:-build/normlab}   # NORMLAB: a copy of the binary, so that rebuilding does not touch it
[ -x "$nl" ] || bash scripts/setup.sh
stage=${1:-all}
# One core, politely: the machine is shared.
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=passive
EXP=experiments/seeds
RUNS=${RUNS:-runs/seeds}
DATA=runs/seeds-data
[ -f "$DATA/meta.json" ] || "$nl" prepare --out_dir "$DATA" --vocab_size 2048

# One sweep directory per group of rows: name, placements, then the options that make the group.
GROUP_SPECS=(
  "b2t         post,pre,b2t,peri --dts 1"
  "b2t-rescale b2t               --dts 1 --rescale_init true"
  "dt0.1       pre,peri          --dts 0.1"
)
UNSCALED="unscaled    post,pre,b2t      --dts 1 --scale_embedding false"
# The placements the field added in 2025-2026 (docs/placements.md), as extra rows on the same
# recipe, each preset as it is: lr 1e-3 and seed 1 only (the budget), run right after the main
# rows' lr-1e-3 column of each depth.
NEW="new         olmo2,siamese,ngpt,completep,subln,admin --dts 1"
DEPTHS=(18 6)
LRS=(1e-3 2e-3 5e-4)   # in the order they run; the grid's lr axis is all three
SEEDS=(1 2)

# sweep GROUP_SPEC PLACEMENTS SWEEP_AXES...: one sweep call in the group's directory over
# PLACEMENTS (comma-separated; "all": the group's), then keep its finished runs.
sweep() {
  local name placements opts
  read -r name placements opts <<<"$1"
  [ "$2" = all ] || placements=$2
  shift 2
  # shellcheck disable=SC2086  # $opts is a list of flags
  "$nl" sweep --data "$DATA" --config experiments/seeds.yaml --progress false --threads 1 \
    --out_dir "$RUNS/$name" --placements "$placements" $opts "$@"
  # Several copies of this script may run at once (sweep cells are claimed with a lock, so each
  # takes the next free one); keeping and the tables are one at a time.
  mkdir -p "$RUNS"
  flock "$RUNS/keep.lock" bash -c "python3 $EXP/keep_run.py '$RUNS/$name' '$EXP/results/$name' && \
    python3 $EXP/collect.py $EXP/results >$EXP/results.md.tmp && mv $EXP/results.md.tmp $EXP/results.md"
}

# The tables of experiments/seeds/results.md, from the kept runs alone.
tables() {
  python3 $EXP/collect.py "$EXP/results" >"$EXP/results.md.tmp"
  mv "$EXP/results.md.tmp" "$EXP/results.md"
}

join() { local IFS=,; echo "$*"; }

# each_placement GROUP_SPEC SWEEP_AXES...: one sweep call per placement of the group, so that each
# run is kept (and the tables rebuilt) as soon as it finishes.
each_placement() {
  local name placements p
  read -r name placements _ <<<"$1"
  for p in ${placements//,/ }; do sweep "$1" "$p" "${@:2}"; done
}

if [ "$stage" = train ] || [ "$stage" = all ]; then
  for seed in "${SEEDS[@]}"; do
    for L in "${DEPTHS[@]}"; do
      for lr in "${LRS[@]}"; do
        for g in "${GROUP_SPECS[@]}"; do each_placement "$g" --depths "$L" --lrs "$lr" --seeds "$seed"; done
        if [ "$seed" = 1 ] && [ "$lr" = 1e-3 ]; then
          each_placement "$NEW" --depths "$L" --lrs 1e-3 --seeds 1
        fi
      done
    done
  done
  # unscaled: seed 1 at both depths, then seed 2, the cheap 6-block runs first (seed 2 was
  # added once seed 1 at 6 blocks had post ahead of pre, to see whether that holds).
  for seed in "${SEEDS[@]}"; do
    for L in $(printf '%s\n' "${DEPTHS[@]}" | sort -n); do
      each_placement "$UNSCALED" --depths "$L" --lrs 1e-3 --seeds "$seed"
    done
  done
  # The whole grid of each group, once everything above is done: nothing left to train, and
  # each group's summary.csv lists every run.
  for g in "${GROUP_SPECS[@]}"; do
    sweep "$g" all --depths "$(join "${DEPTHS[@]}")" --lrs "$(join "${LRS[@]}")" --seeds "$(join "${SEEDS[@]}")"
  done
  sweep "$UNSCALED" all --depths "$(join "${DEPTHS[@]}")" --lrs 1e-3 --seeds "$(join "${SEEDS[@]}")"
  sweep "$NEW" all --depths "$(join "${DEPTHS[@]}")" --lrs 1e-3 --seeds 1
fi

if [ "$stage" = tables ] || [ "$stage" = all ]; then
  tables
  echo "reproduce-seeds: $EXP/results.md"
fi

if [ "$stage" = report ] || [ "$stage" = all ]; then
  "$nl" report "$EXP/results" -o "$EXP/report.html" --png-dir "$EXP/figures"
  echo "reproduce-seeds: $EXP/report.html, $EXP/figures/"
fi

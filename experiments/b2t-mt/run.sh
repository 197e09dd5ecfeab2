#!/usr/bin/env bash
# The B2T comparison at CPU size (issue 5): encoder-decoder translation, English -> German, on the
# bundled gettext corpus, for post, pre, b2t (with and without its rescaled init), peri, deepnorm at
# a shallow (2-2) and a deep (8-8) encoder-decoder. For each run: train
# (experiments/b2t-mt/config.yaml), translate the first $TEST_LINES test sentences (greedy unless
# BEAM is set), score BLEU (sacreBLEU defaults); then collect everything into
# experiments/b2t-mt/results.{md,csv,json} and report.html.
# Run directories (checkpoints, metrics.jsonl, diagnostics.jsonl) go to runs/b2t-mt/ (gitignored).
# A run whose summary.json exists for $STEPS steps (finished or diverged) is not retrained.
# About 35 minutes on 2 shared cores with the defaults (12 runs of 200 steps).
set -euo pipefail
cd "$(dirname "$0")/../.."
NL=${NL:-build/normlab}
[ -x "$NL" ] || bash scripts/setup.sh
STEPS=${STEPS:-200}
BEAM=${BEAM:-1}
TEST_LINES=${TEST_LINES:-500}
DATA=${DATA:-runs/b2t-mt-data}
OUT=${OUT:-runs/b2t-mt}
SHALLOW=${SHALLOW:-2}
DEEP=${DEEP:-8}
# b2t follows the authors' later revision (rescale_init on); b2t_norescale is the original B2T
# connection with plain fairseq init, to separate the connection from the initialisation.
PLACEMENTS=${PLACEMENTS:-post pre b2t b2t_norescale peri deepnorm}
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
EXP=experiments/b2t-mt

[ -f "$DATA/meta.json" ] || "$NL" prepare-parallel --out_dir "$DATA"
mkdir -p "$OUT"
head -n "$TEST_LINES" "$DATA/test.en" > "$OUT/test.en"
head -n "$TEST_LINES" "$DATA/test.de" > "$OUT/test.de"

for name in $PLACEMENTS; do
  for depth in "$SHALLOW" "$DEEP"; do
    run="$OUT/$name-$depth-$depth"
    placement=${name%_norescale}
    extra=()
    # B2T's later revision rescales every block weight matrix by N^-1/2 whenever B2T is on.
    [ "$name" = b2t ] && extra+=(--rescale_init true)
    if ! python3 -c "import json,sys; sys.exit(0 if json.load(open('$run/summary.json'))['config']['steps']==$STEPS else 1)" 2>/dev/null; then
      rm -rf "$run"
      echo "b2t-mt: training $run" >&2
      # A diverged run exits non-zero; its summary.json records it, so carry on.
      "$NL" train --config "$EXP/config.yaml" --data "$DATA" --placement "$placement" \
        --encoder_layers "$depth" --n_layers "$depth" --steps "$STEPS" --progress false \
        --out_dir "$run" "${extra[@]}" > "$run.log" 2>&1 || echo "b2t-mt: train exited $? ($run)" >&2
    fi
    if [ -f "$run/checkpoint.safetensors" ] && [ ! -f "$run/bleu.json" ]; then
      "$NL" translate -m "$run/checkpoint.safetensors" -i "$OUT/test.en" -o "$run/test.hyp" \
        --beam "$BEAM" 2>> "$run.log" || echo "b2t-mt: translate failed ($run)" >&2
      [ -f "$run/test.hyp" ] && "$NL" eval --metric bleu --hyp "$run/test.hyp" --ref "$OUT/test.de" \
        --json > "$run/bleu.json"
    fi
  done
done
python3 "$EXP/collect.py" "$OUT" "$EXP" --beam "$BEAM" --test_lines "$TEST_LINES"
# Loss curves and per-block gradient profiles; PNG=1 also writes the charts (needs headless chromium).
png=()
[ "${PNG:-0}" = 1 ] && png=(--png-dir "$EXP/figures")
"$NL" report "$OUT" -o "$EXP/report.html" --title "B2T comparison, encoder-decoder (CPU size)" "${png[@]}"
echo "b2t-mt: $EXP/results.md" >&2

#!/usr/bin/env bash
# CPU-sized versions of the seed papers' key experiments on the bundled corpus (Debian's fortunes):
#   Takase et al. (B2T): shallow (6) and deep (18) stacks for post, pre, b2t, peri at dt 1;
#   Kan et al. 2025: pre and peri with dt 1 and 0.1.
# Writes runs/seeds/{b2t,dt}/ (one directory per run, summary.csv each) and experiments/seeds/report.html with
# PNG figures in experiments/seeds/figures/. About 40 minutes on 2 cores with the defaults;
# STEPS=... shortens it (the README figures were made with the defaults).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x build/normlab ] || bash scripts/setup.sh
nl=build/normlab
STEPS=${STEPS:-600}
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
DATA=runs/seeds-data
OUT=${OUT:-runs/seeds}
[ -f "$DATA/train.bin" ] || $nl prepare --out_dir "$DATA" --vocab_size 2048

common=(--data "$DATA" --config experiments/seeds.yaml --steps "$STEPS" --progress false)
# Takase et al.: placement x depth at dt 1.
$nl sweep "${common[@]}" --out_dir "$OUT/b2t" --placements post,pre,b2t,peri --depths 6,18 --dts 1 --seeds 1
# Kan et al.: the residual step dt for pre and peri (dt 1 runs are shared with the sweep above).
$nl sweep "${common[@]}" --out_dir "$OUT/dt" --placements pre,peri --depths 6,18 --dts 0.1 --seeds 1
mkdir -p experiments/seeds
$nl report "$OUT" -o experiments/seeds/report.html --png-dir experiments/seeds/figures
echo "reproduce-seeds: $OUT/b2t/summary.csv, $OUT/dt/summary.csv, experiments/seeds/report.html"

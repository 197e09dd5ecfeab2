#!/usr/bin/env bash
# End-to-end test of the report's learning-rate map (figure 9, docs/report.md): hand-written runs
# over two learning rates and two depths, with the unigram loss in their summaries, one stalled
# and one diverged. The page must draw 9 figures, mark each cell by the rule of
# experiments/seeds/README.md (stalled above U - 0.3, diverged when stopped or above U + 0.5), show
# an unrun cell as such, and export chart-9-lr-map.png; runs at one learning rate draw no map.
# Called by ctest as: bash test_report_lr_map.sh PATH_TO_normlab REPO_ROOT
set -u
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
begin_cli_test "$@"
NORMLAB=$NL
work=$W

# make_run DIR PLACEMENT L LR SEED STATUS VALID: a finished run (U = 6.0 for every run).
make_run() {
  local dir=$1 placement=$2 L=$3 lr=$4 seed=$5 status=$6 valid=$7
  mkdir -p "$dir"
  printf '{"step":0,"valid_loss":7.6}\n{"step":10,"loss":7.0,"lr":%s,"grad_norm":0.5,"tokens_per_s":900}\n' \
    "$lr" >"$dir/metrics.jsonl"
  printf '{"status":"%s","steps":10,"final_loss":%s,"final_valid_loss":%s,"unigram_loss":6.0,"skipped_steps":0,"config":{"placement":"%s","n_layers":%d,"norm":"layernorm","dt":"1","lr":%s,"seed":%d}}\n' \
    "$status" "$valid" "$valid" "$placement" "$L" "$lr" "$seed" >"$dir/summary.json"
}
S=$work/grid
make_run "$S/pre-L6-lr1e-3-s1" pre 6 1e-3 1 ok 5.10
make_run "$S/pre-L6-lr1e-3-s2" pre 6 1e-3 2 ok 5.20
make_run "$S/pre-L6-lr2e-3-s1" pre 6 2e-3 1 ok 5.00
make_run "$S/post-L6-lr1e-3-s1" post 6 1e-3 1 ok 5.40
make_run "$S/post-L6-lr2e-3-s1" post 6 2e-3 1 ok 7.00         # above U + 0.5: diverged
make_run "$S/post-L18-lr1e-3-s1" post 18 1e-3 1 ok 5.80       # above U - 0.3: stalled
make_run "$S/post-L18-lr2e-3-s1" post 18 2e-3 1 "diverged at step 7: loss is nan" null
make_run "$S/pre-L18-lr1e-3-s1" pre 18 1e-3 1 ok 5.30          # pre L18 lr 2e-3: no run
make_run "$S/b2t-L6-lr1e-3-s1" b2t 6 1e-3 1 ok 5.25            # rows: post, pre, b2t (not a-z)

CHROMIUM=${NORMLAB_CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
if [ -z "$CHROMIUM" ]; then
  for t in "9 figures" "cells marked" "PNG export" "no map at one lr"; do
    skip "$t" "chromium not installed"
  done
  finish
  exit
fi
chrome() {
  timeout 180 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --disable-dev-shm-usage --user-data-dir="$(mktemp -d -p "$work")" "$@"
}
"$NORMLAB" report "$S" -o "$work/r.html" -q
check_that "report of the grid exits 0" "[ $? -eq 0 ]"
chrome --window-size=1300,1000 --dump-dom "file://$work/r.html" >"$work/dom.html" 2>/dev/null
check_that "the page drew its 9 figures" "grep -q 'data-charts-ready=\"9\"' '$work/dom.html'"
check_that "no script error" "! grep -q 'data-error=' '$work/dom.html'"
# The two panels' cells, one per line: "ROW@LR=MARK".
grep -o 'data-cells="[^"]*"' "$work/dom.html" | sed 's/data-cells="//; s/"$//' | tr ';' '\n' \
  >"$work/cells.txt"
check_that "two panels of 3 rows x 2 lrs" "[ \$(wc -l <'$work/cells.txt') -eq 12 ]"
for want in "pre@1e-3=trains" "pre@2e-3=trains" "post@1e-3=trains" "post@2e-3=diverged" \
  "post@1e-3=stalled" "post@2e-3=diverged" "pre@2e-3=none"; do
  check_that "cell $want" "grep -qx '$want' '$work/cells.txt'"
done
# Rows in the presets' order (post, pre, ..., b2t), each row's cells by lr.
check_that "6 blocks: post at 1e-3 trains, at 2e-3 diverged (above U + 0.5); rows post, pre, b2t" \
  "grep -o 'id=\"chart-9\"[^>]*' '$work/dom.html' | grep -q 'post@1e-3=trains;post@2e-3=diverged;pre@1e-3=trains;pre@2e-3=trains;b2t@1e-3=trains;b2t@2e-3=none'"
check_that "18 blocks: post stalled at 1e-3, diverged at 2e-3; pre not run at 2e-3" \
  "grep -o 'id=\"chart-9-p2\"[^>]*' '$work/dom.html' | grep -q 'post@1e-3=stalled;post@2e-3=diverged;pre@1e-3=trains;pre@2e-3=none;b2t@1e-3=none'"

"$NORMLAB" report "$S" -o "$work/p.html" --png-dir "$work/png" -q
f=$work/png/chart-9-lr-map.png
check_that "chart-9-lr-map.png is a non-empty PNG" \
  "[ -s '$f' ] && [ \"\$(head -c 8 '$f' | od -An -tx1 | tr -d ' \n')\" = 89504e470d0a1a0a ] && [ \$(stat -c %s '$f') -gt 5000 ]"

# One learning rate: no map, the other 8 figures as before.
mkdir -p "$work/one"
cp -r "$S/pre-L6-lr1e-3-s1" "$S/post-L6-lr1e-3-s1" "$work/one/"
"$NORMLAB" report "$work/one" -o "$work/one.html" -q
chrome --window-size=1300,1000 --dump-dom "file://$work/one.html" >"$work/one.dom" 2>/dev/null
check_that "one learning rate: 8 figures, no map" \
  "grep -q 'data-charts-ready=\"8\"' '$work/one.dom' && ! grep -q 'id=\"chart-9\"' '$work/one.dom'"
finish

#!/usr/bin/env bash
# The report's figures checked in headless Chromium (docs/report.md): the report of two small real
# runs (post and pre) and of a synthetic 12-run sweep (small multiples) is loaded with
# report_browser/capture_console.js and measure_charts.js injected; check_dom.py then asserts no
# console errors, every chart drawn, legend labels short and inside their chart, shared axes
# across panels, one log-tick format, units on the axes and the heat maps' colour bars. A
# screenshot of the page must be a non-blank PNG. Skipped when Chromium is not installed.
# Usage: bash test_report_browser.sh PATH_TO_normlab REPO_ROOT
set -u
NL=$(realpath "${1:?usage: test_report_browser.sh PATH_TO_normlab REPO_ROOT}")
ROOT=$(realpath "${2:-.}")
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
# shellcheck source=lib.sh
source "$ROOT/tests/cli/lib.sh"
HERE="$ROOT/tests/cli/report_browser"

CHROMIUM=${NORMLAB_CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
if [ -z "$CHROMIUM" ]; then
  skip "report figures in headless Chromium" "chromium not installed (Debian package chromium)"
  finish
fi
require_corpus
chrome() {
  timeout 180 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --disable-dev-shm-usage --hide-scrollbars --user-data-dir="$(mktemp -d -p "$W")" "$@"
}

# ---- two small real runs; different placements, so their legend labels are "post" and "pre"
prepare_corpus "$W/data"
RUN=("${TINY[@]}")
set_flag RUN --n_layers 3
for placement in post pre; do
  "$NL" train "${RUN[@]}" --placement "$placement" --threads 2 --steps 30 \
    --warmup 10 --log_every 2 --eval_every 10 --diag_every 5 --data "$W/data" \
    --out_dir "$W/real/tiny-$placement-run" >"$W/train-$placement.out" 2>&1 ||
    not_ok "fixture: train $placement" "$(tail -5 "$W/train-$placement.out")"
done

# weight_norm in diagnostics.jsonl is ||W|| before the step's update: at the last step the
# checkpoint holds W after it, so | ||W_ckpt|| - weight_norm | <= ||dW|| = update_ratio * weight_norm.
check "diagnostics weight_norm agrees with the checkpoint's weights and update_ratio" "$PY" - \
  "$W/real/tiny-post-run" <<'PYEOF'
import json, struct, sys
import numpy as np
run = sys.argv[1]
last = [json.loads(l) for l in open(run + "/diagnostics.jsonl")][-1]
raw = open(run + "/checkpoint.safetensors", "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
header = json.loads(raw[8:8 + n])
bad = []
for name, p in last["params"].items():
    info = header[name]
    a, b = info["data_offsets"]
    w = np.frombuffer(raw[8 + n + a:8 + n + b], dtype=np.float32).astype(np.float64)
    norm = float(np.linalg.norm(w))
    slack = p["update_ratio"] * p["weight_norm"] * 1.0001 + 1e-6 * p["weight_norm"] + 1e-12
    if not p["weight_norm"] > 0 or abs(norm - p["weight_norm"]) > slack:
        bad.append(f"{name}: ||W_ckpt|| {norm} weight_norm {p['weight_norm']} ratio {p['update_ratio']}")
if bad or len(last["params"]) < 10:
    sys.exit("\n".join(bad) or "too few params")
PYEOF

# render REPORT_DIR NAME RUN_DIR...: NAME.html, its measured DOM NAME.dom.html
render() {
  local name=$1
  shift
  "$NL" report "$@" -o "$W/$name.html" -q 2>"$W/$name.err" ||
    not_ok "normlab report ($name)" "$(cat "$W/$name.err")"
  "$PY" "$HERE/inject.py" "$W/$name.html" "$W/$name.probe.html"
  chrome --window-size=1300,1000 --dump-dom "file://$W/$name.probe.html" >"$W/$name.dom.html" \
    2>"$W/$name.chrome.log"
}
# page_checks NAME: the checks every report page must pass
page_checks() {
  local name=$1 c
  check "$name: the page drew its 8 figures" "$PY" "$HERE/check_dom.py" "$W/$name.dom.html" ready 8
  for c in console drawn legends short-labels log-ticks units colour-bars; do
    check "$name: $c" "$PY" "$HERE/check_dom.py" "$W/$name.dom.html" "$c"
  done
}

render real "$W/real"
page_checks real
check_that "real: two runs, one panel per figure (no small multiples below the threshold)" \
  "! grep -q 'id=\"chart-1-p2\"' '$W/real.dom.html'"

# ---- many runs: a synthetic sweep of 12 runs (placements x depths) and the two real ones
"$PY" "$HERE/make_sweep.py" "$W/sweep"
render many "$W/sweep" "$W/real"
page_checks many
for s in s1 s2 s3 s5 s6; do
  check "many: section $s is small multiples with shared axes" \
    "$PY" "$HERE/check_dom.py" "$W/many.dom.html" small-multiples "$s"
done

# ---- a screenshot of the real runs' report, as a reader sees it
chrome --window-size=1300,2400 --screenshot="$W/real.png" "file://$W/real.html" >/dev/null 2>&1
check "screenshot is a non-blank PNG" "$PY" "$HERE/png_check.py" "$W/real.png" 0.02 800

# ---- the PNG export writes the new figures too
"$NL" report "$W/sweep" -o "$W/png.html" --png-dir "$W/png" -q >"$W/png.out" 2>&1 ||
  not_ok "--png-dir" "$(cat "$W/png.out")"
for f in chart-5-lr chart-6-grad-norm chart-7-update-ratio-heatmap chart-8-grad-norm-heatmap; do
  check "PNG export: $f.png is a non-blank PNG" "$PY" "$HERE/png_check.py" "$W/png/$f.png" 0.005 600
done

finish

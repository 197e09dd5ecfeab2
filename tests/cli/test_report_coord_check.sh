#!/usr/bin/env bash
# The coordinate-check figure of `normlab report` (docs/report.md, figure 10) from sanity-check
# JSONs (docs/sanity-check.md, "Coordinate check"): two real checks (post and pre, 3 depths, a
# 20-step trial, so coordinate-check steps 1, 5 and 20) are reported as a JSON argument and as
# a directory's sanity-check.json; the page, loaded in headless Chromium, must draw the figure
# (an activation and an update panel per check) with every point equal to the one recomputed
# from the JSON by check_coord_points.py. A report of runs alone has no such figure; a .json that
# is not a check is a one-line error. Skipped without Chromium (after the non-browser checks).
# Usage: bash test_report_coord_check.sh PATH_TO_normlab REPO_ROOT
set -u
NL=$(realpath "${1:?usage: test_report_coord_check.sh PATH_TO_normlab REPO_ROOT}")
ROOT=$(realpath "${2:-.}")
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
# shellcheck source=lib.sh
source "$ROOT/tests/cli/lib.sh"
HERE="$ROOT/tests/cli/report_browser"
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=passive

mkdir -p "$W/dir"
for p in post pre; do
  "$NL" sanity-check --placement "$p" --depths 2,4,8 --sanity-steps 20 --sanity-seeds 1 \
    --sanity-batches 1 --d_model 16 --n_heads 2 --d_ff 32 --vocab_size 64 --lr 1e-2 \
    --json_out "$W/$p.json" >"$W/$p.out" 2>&1 || not_ok "fixture: sanity-check $p" "$(tail -3 "$W/$p.out")"
done
cp "$W/pre.json" "$W/dir/sanity-check.json"

out=$("$NL" report "$W/post.json" "$W/dir" -o "$W/page.html" 2>&1)
check_that "report of two checks (a .json and a directory's sanity-check.json)" \
  "echo \"\$out\" | grep -q '0 run(s), 2 sanity check(s)'"
check_that "the page carries both checks' coordinate checks" \
  "grep -q '\"checks\":\[{' '$W/page.html' && grep -q 'coord_check' '$W/page.html'"

echo '{"status": "ok"}' >"$W/summary.json"
err=$("$NL" report "$W/summary.json" -o "$W/bad.html" 2>&1)
rc=$?
check_that "a .json that is not a sanity check is a one-line user error" \
  "[ $rc -eq 1 ] && [ \$(echo \"\$err\" | wc -l) -eq 1 ] && echo \"\$err\" | grep -q 'summary.json: not a sanity-check JSON'"
check_that "no HTML is written for a bad check" "[ ! -e '$W/bad.html' ]"

CHROMIUM=${NORMLAB_CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
if [ -z "$CHROMIUM" ]; then
  skip "coordinate-check figure in headless Chromium" "chromium not installed (Debian package chromium)"
  finish
fi
chrome() {
  timeout 180 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --disable-dev-shm-usage --hide-scrollbars --user-data-dir="$(mktemp -d -p "$W")" "$@"
}
"$PY" "$HERE/inject.py" "$W/page.html" "$W/probe.html" coord_points.js
chrome --window-size=1300,1000 --dump-dom "file://$W/probe.html" >"$W/dom.html" 2>"$W/chrome.log"
check "the figure's points are the checks' coordinate checks (mean over blocks, per step and depth)" \
  "$PY" "$HERE/check_coord_points.py" "$W/dom.html" "$W/post.json" "$W/pre.json"
check_that "a page of checks alone draws that one figure" \
  "grep -q 'data-charts-ready=\"1\"' '$W/dom.html'"
finish

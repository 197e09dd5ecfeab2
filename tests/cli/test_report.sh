#!/usr/bin/env bash
# End-to-end test of `normlab report`: hand-written run directories in the documented formats
# (docs/diagnostics.md), one of them diverged and one without diagnostics, rendered to HTML and
# loaded in headless Chromium, which must draw all its figures without a script error; then the
# PNG export. Usage: bash test_report.sh PATH_TO_normlab REPO_ROOT
set -u
NORMLAB=${1:?usage: test_report.sh PATH_TO_normlab REPO_ROOT}
REPO=${2:-.}
work=$(mktemp -d)
W=$work
trap 'rm -rf "$work"' EXIT
# shellcheck source=lib.sh
source "$REPO/tests/cli/lib.sh"

# ---- fake runs: sweep/{post,pre}-L{6,12}; post-L12 diverged and has no diagnostics.
# make_run DIR PLACEMENT L STATUS STEPS (STATUS "ok" or "diverged")
make_run() {
  local dir=$1 placement=$2 L=$3 status=$4 steps=$5
  mkdir -p "$dir"
  cat >"$dir/config.yaml" <<EOF
# ---- model
n_layers: $L
placement: $placement
norm: layernorm
dt: "1"
# ---- train
lr: 0.001
seed: 1
EOF
  awk -v steps="$steps" -v L="$L" -v st="$status" -v p="$placement" 'BEGIN {
    printf "{\"step\":0,\"valid_loss\":%.4f,\"valid_ppl\":%.2f}\n", 7.6, exp(7.6);
    for (s = 10; s <= steps; s += 10) {
      loss = 3.0 + 4.6 * exp(-s / 60.0) + 0.02 * L + (p == "pre" ? 0.05 : 0);
      if (st == "diverged" && s > steps - 30) loss = 8 + (s - steps + 30) * 4;
      if (st == "diverged" && s == steps) printf "{\"step\":%d,\"loss\":null,\"lr\":0.001,\"grad_norm\":null,\"tokens_per_s\":900}\n", s;
      else printf "{\"step\":%d,\"loss\":%.4f,\"lr\":0.001,\"grad_norm\":0.5,\"tokens_per_s\":900}\n", s, loss;
      if (s % 50 == 0 && st == "ok") printf "{\"step\":%d,\"valid_loss\":%.4f,\"valid_ppl\":%.2f}\n", s, loss + 0.1, exp(loss + 0.1);
    } }' >"$dir/metrics.jsonl"
  if [ "$status" = ok ]; then
    local last
    last=$(awk -v steps="$steps" -v L="$L" -v p="$placement" \
      'BEGIN { printf "%.4f", 3.0 + 4.6 * exp(-steps / 60.0) + 0.02 * L + (p == "pre" ? 0.05 : 0) }')
    printf '{"status":"ok","steps":%d,"final_loss":%s,"final_valid_loss":%s,"skipped_steps":0,"config":{"placement":"%s","n_layers":%d,"norm":"layernorm","dt":"1","lr":0.001,"seed":1}}\n' \
      "$steps" "$last" "$(awk -v x="$last" 'BEGIN { printf "%.4f", x + 0.1 }')" "$placement" "$L" >"$dir/summary.json"
    # Post-LN: gradient norm decays towards the bottom blocks, hidden rms stays ~1.
    # Pre-LN: gradient flat, hidden rms grows with depth.
    for step in 0 "$steps"; do
      awk -v step="$step" -v L="$L" -v p="$placement" 'BEGIN {
        printf "{\"step\":%d,\"blocks\":[", step;
        for (l = 1; l <= L; l++) {
          g = (p == "post") ? 0.5 * exp(-(L - l) * 0.45) : 0.3 + 0.01 * l + 0.1 * (L == 6);
          r = (p == "post") ? 1.0 : sqrt(l) * (step > 0 ? 1.5 : 1.0) * (1 + L / 24);
          if (l > 1) printf ",";
          printf "{\"block\":%d,\"input\":{\"rms\":%.5f,\"mean_abs\":%.5f,\"var\":%.5f,\"batch_var\":%.5f},", l, r, 0.8 * r, r * r, 0.9 * r * r;
          printf "\"attn_out\":{\"rms\":0.5,\"mean_abs\":0.4,\"var\":0.25,\"batch_var\":0.2},";
          printf "\"mlp_out\":{\"rms\":0.7,\"mean_abs\":0.5,\"var\":0.49,\"batch_var\":0.4},";
          printf "\"grad_input\":%.6g,\"grad_attn_out\":%.6g,\"grad_mlp_out\":%.6g,", g, g / 3, g / 2;
          printf "\"attn_entropy\":2.1,\"norm_std\":{\"attn.norm_in\":1.3}}";
        }
        printf "],\"output\":{\"rms\":2.0,\"mean_abs\":1.6,\"var\":4.0,\"batch_var\":3.5},";
        printf "\"params\":{\"blocks.0.attn.qkv.weight\":{\"grad_norm\":0.01,\"update_ratio\":0.001}}}\n";
      }' >>"$dir/diagnostics.jsonl"
    done
  else
    local div=$((steps))
    printf '{"status":"diverged at step %d","steps":%d,"final_loss":null,"final_valid_loss":null,"skipped_steps":3,"config":{"placement":"%s","n_layers":%d,"norm":"layernorm","dt":"1","lr":0.001,"seed":1}}\n' \
      "$div" "$div" "$placement" "$L" >"$dir/summary.json"
  fi
}
make_run "$work/sweep/post-L6" post 6 ok 200
make_run "$work/sweep/pre-L6" pre 6 ok 200
make_run "$work/sweep/pre-L12" pre 12 ok 200
make_run "$work/sweep/post-L12" post 12 diverged 120
# A truncated last line, as a killed run leaves: tolerated with a warning.
printf '{"step":210,"loss":3.' >>"$work/sweep/pre-L12/metrics.jsonl"

html="$work/report.html"
out=$("$NORMLAB" report "$work/sweep" -o "$html" 2>"$work/report.err")
rc=$?
check_that "report exits 0" "[ $rc -eq 0 ]"
check_that "report finds the 4 runs of the sweep directory" "echo \"\$out\" | grep -q '4 run(s)'"
check_that "truncated metrics line is a warning naming file and line" \
  "grep -q 'pre-L12/metrics.jsonl:[0-9]*: skipped' '$work/report.err'"
check_that "HTML written" "[ -s '$html' ]"
check_that "HTML is self-contained (no external script, link or http(s) resource)" \
  "! grep -Eiq '<script[^>]* src=|<link |(src|href)=\"https?:' '$html'"
check_that "Chart.js inlined" "grep -q 'Chart.js v' '$html'"

# A single run directory and a missing path.
"$NORMLAB" report "$work/sweep/pre-L6" -o "$work/one.html" -q 2>/dev/null
rc=$?
check_that "single run directory works" "[ $rc -eq 0 ] && [ -s '$work/one.html' ]"
err=$("$NORMLAB" report "$work/does-not-exist" -o "$work/x.html" 2>&1)
rc=$?
check_that "missing path is a one-line user error naming the path" \
  "[ $rc -eq 1 ] && [ \$(echo \"\$err\" | wc -l) -eq 1 ] && echo \"\$err\" | grep -q 'does-not-exist: no such file'"
mkdir -p "$work/empty"
err=$("$NORMLAB" report "$work/empty" -o "$work/x.html" 2>&1)
rc=$?
check_that "directory without runs is a user error" "[ $rc -eq 1 ] && echo \"\$err\" | grep -q 'no run directory found'"

# ---- headless Chromium
CHROMIUM=${NORMLAB_CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
if [ -z "$CHROMIUM" ]; then
  for t in "page renders in chromium" "no script errors" "4 charts drawn" "PNG export"; do
    skip "$t" "chromium not installed"
  done
else
  chrome() {
    timeout 180 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
      --disable-background-networking --disable-component-update --disable-sync \
      --disable-dev-shm-usage --user-data-dir="$(mktemp -d -p "$work")" "$@"
  }
  chrome --enable-logging=stderr --v=0 --window-size=1300,1000 --dump-dom "file://$html" \
    >"$work/dom.html" 2>"$work/chrome.log"
  check_that "page renders in chromium (DOM dumped)" "grep -q '</html>' '$work/dom.html'"
  check_that "page reports its 8 figures created" "grep -q 'data-charts-ready=\"8\"' '$work/dom.html'"
  check_that "no data-error attribute (window.onerror / chart exceptions)" \
    "! grep -q 'data-error=' '$work/dom.html'"
  check_that "no uncaught errors on the console" \
    "! grep -Eq 'Uncaught|CONSOLE\\([0-9]+\\).*[Ee]rror' '$work/chrome.log'"
  check_that "4 canvases sized by Chart.js" \
    "[ \$(grep -o '<canvas id=\"chart-[1-4]\"[^>]*style=\"[^\"]*height' '$work/dom.html' | wc -l) -eq 4 ]"
  check_that "summary table lists the diverged run" \
    "grep -q '<tr class=\"diverged\"' '$work/dom.html' && grep -q 'diverged at step 120' '$work/dom.html'"
  check_that "depth chart lists the diverged run" "grep -q 'Diverged (red' '$work/dom.html'"

  pngs="$work/png"
  "$NORMLAB" report "$work/sweep" -o "$work/r2.html" --png-dir "$pngs" >"$work/png.out" 2>&1
  rc=$?
  check_that "--png-dir exits 0" "[ $rc -eq 0 ]"
  for name in chart-1-loss chart-2-grad-profile chart-2-grad-profile-step0 chart-3-hidden-rms \
    chart-3-hidden-rms-step0 chart-4-loss-vs-depth; do
    f="$pngs/$name.png"
    check_that "$name.png is a non-empty PNG" \
      "[ -s '$f' ] && [ \"\$(head -c 8 '$f' | od -An -tx1 | tr -d ' \n')\" = 89504e470d0a1a0a ] && [ \$(stat -c %s '$f') -gt 5000 ]"
  done
  err=$(NORMLAB_CHROMIUM=/nonexistent/chromium "$NORMLAB" report "$work/sweep" -o "$work/r3.html" \
    --png-dir "$work/png3" 2>&1)
  rc=$?
  check_that "--png-dir without chromium is a clear user error" \
    "[ $rc -eq 1 ] && echo \"\$err\" | grep -q 'chromium not found'"
fi

finish

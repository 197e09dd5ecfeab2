#!/usr/bin/env bash
# `normlab eval`: score lines and --json for bleu, chrf and rouge on small files whose scores are
# worked out in tests/eval/test_metrics.cpp, several reference files, and the one-line errors
# (line-count mismatch, invalid UTF-8, missing file). Usage: bash test_eval.sh PATH_TO_normlab REPO_ROOT
set -uo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
begin_cli_test "$@"

# expect_out DESC EXPECTED CMD...: CMD exits 0 and its stdout is exactly EXPECTED.
expect_out() {
  local desc=$1 want=$2
  shift 2
  local got
  if got=$("$@" 2>"$W/.err") && [ "$got" = "$want" ]; then
    ok "$desc"
  else
    not_ok "$desc" "want: $want" "got:  $got" "$(cat "$W/.err")"
  fi
}

# expect_error DESC NEEDLE CMD...: exit 1, exactly one stderr line "normlab: error: ..." holding
# NEEDLE, nothing on stdout.
expect_error() {
  local desc=$1 needle=$2
  shift 2
  local out rc
  out=$("$@" 2>"$W/.err")
  rc=$?
  if [ "$rc" -eq 1 ] && [ -z "$out" ] && [ "$(wc -l <"$W/.err")" -eq 1 ] &&
    grep -q '^normlab: error: ' "$W/.err" && grep -qF -- "$needle" "$W/.err"; then
    ok "$desc"
  else
    not_ok "$desc" "exit $rc, stdout: $out" "stderr: $(cat "$W/.err")"
  fi
}

printf 'hello there general kenobi\non our way to ankh morpork\n' >hyp.txt
printf 'hello there general kenobi\ngoodbye ankh morpork\n' >ref.txt
expect_out "bleu score line (sacreBLEU format)" \
  "BLEU = 39.76 60.0/50.0/33.3/25.0 (BP = 1.000 ratio = 1.429 hyp_len = 10 ref_len = 7)" \
  "$NL" eval --metric bleu --hyp hyp.txt --ref ref.txt

json=$("$NL" eval --metric bleu --hyp hyp.txt --ref ref.txt --json 2>&1)
if $PY -c 'import json, sys
j = json.loads(sys.argv[1])
assert j["metric"] == "bleu" and j["segments"] == 2 and abs(j["score"] - 39.76353643835252) < 1e-9
assert j["hyp_len"] == 10 and j["ref_len"] == 7 and j["matches"] == [6, 4, 2, 1]' "$json"; then
  ok "bleu --json"
else
  not_ok "bleu --json" "$json"
fi

# chrF on "ab" vs "abc" is 700/11 (hand-computed in test_metrics.cpp); no final newline here.
printf 'ab' >h1.txt
printf 'abc\n' >r1.txt
expect_out "chrf score line" "chrF2 = 63.64" "$NL" eval --metric chrf --hyp h1.txt --ref r1.txt
json=$("$NL" eval --metric chrf --hyp h1.txt --ref r1.txt --json 2>&1)
if $PY -c 'import json, sys
j = json.loads(sys.argv[1]); assert abs(j["score"] - 700 / 11) < 1e-9 and j["beta"] == 2' "$json"; then
  ok "chrf --json"
else
  not_ok "chrf --json" "$json"
fi

printf 'police kill the gunman\n' >h2.txt
printf 'Police killed the gunman.\r\n' >r2.txt
expect_out "rouge score lines" "ROUGE-1 = 75.00 (P = 75.00 R = 75.00)
ROUGE-2 = 33.33 (P = 33.33 R = 33.33)
ROUGE-L = 75.00 (P = 75.00 R = 75.00)" "$NL" eval --metric rouge --hyp h2.txt --ref r2.txt
json=$("$NL" eval --metric rouge --hyp h2.txt --ref r2.txt --json 2>&1)
if $PY -c 'import json, sys
j = json.loads(sys.argv[1]); assert j["rougeL"]["f1"] == 75 and j["segments"] == 1' "$json"; then
  ok "rouge --json"
else
  not_ok "rouge --json" "$json"
fi

expect_out "identical files give BLEU 100" \
  "BLEU = 100.00 100.0/100.0/100.0/100.0 (BP = 1.000 ratio = 1.000 hyp_len = 7 ref_len = 7)" \
  "$NL" eval --metric bleu --hyp ref.txt --ref ref.txt

# ---- errors
printf 'one line\n' >short.txt
expect_error "line-count mismatch names both files" \
  "hyp.txt: 2 lines, but the reference short.txt has 1" \
  "$NL" eval --metric bleu --hyp hyp.txt --ref short.txt
printf 'ok\n\xff\n' >bad.txt
expect_error "invalid UTF-8 names the file" "bad.txt: invalid UTF-8 at byte 3" \
  "$NL" eval --metric chrf --hyp hyp.txt --ref bad.txt
expect_error "missing file" "nope.txt: cannot open" \
  "$NL" eval --metric rouge --hyp nope.txt --ref ref.txt
if "$NL" eval --metric meteor --hyp hyp.txt --ref ref.txt >/dev/null 2>&1; then
  not_ok "unknown metric rejected"
else
  ok "unknown metric rejected"
fi


# ---- several reference files (as `sacrebleu -r ref1 ref2`): sacreBLEU's README example
# reproduced digit for digit, the signature on stderr and in --json, and the errors.
printf 'The dog bit the man.\nIt was not unexpected.\nThe man bit him first.\n' >ref1
printf 'The dog had bit the man.\nNo one was surprised.\nThe man had bitten the dog.\n' >ref2
printf "The dog bit the man.\nIt wasn't surprising.\nThe man had just bitten him.\n" >sys

# expect_lines DESC STDOUT STDERR CMD...: exit 0, stdout and stderr exactly as given.
expect_lines() {
  local desc=$1 want_out=$2 want_err=$3
  shift 3
  local out
  if out=$("$@" 2>"$W/.err") && [ "$out" = "$want_out" ] && [ "$(cat "$W/.err")" = "$want_err" ]; then
    ok "$desc"
  else
    not_ok "$desc" "stdout: $out" "stderr: $(cat "$W/.err")"
  fi
}

expect_lines "bleu with two references: sacreBLEU's README line and signature" \
  "BLEU = 48.53 82.4/50.0/45.5/37.5 (BP = 0.943 ratio = 0.944 hyp_len = 17 ref_len = 18)" \
  "signature: nrefs:2|case:mixed|eff:no|tok:13a|smooth:exp|version:2.3.1" \
  "$NL" eval --metric bleu --hyp sys -r ref1 ref2
expect_lines "chrf with two references (--ref repeated)" "chrF2 = 59.73" \
  "signature: nrefs:2|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.3.1" \
  "$NL" eval --metric chrf --hyp sys --ref ref1 --ref ref2
# One reference file: the score is the single-reference BLEU (tests/eval), the signature nrefs:1.
err=$("$NL" eval --metric bleu --hyp sys --ref ref2 2>&1 >/dev/null)
if [ "$err" = "signature: nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.3.1" ]; then
  ok "one reference: nrefs:1"
else
  not_ok "one reference: nrefs:1" "$err"
fi

json=$("$NL" eval --metric bleu --hyp sys -r ref1 ref2 --json 2>&1)
if $PY -c 'import json, sys
j = json.loads(sys.argv[1])
assert abs(j["score"] - 48.530827) < 1e-8 and j["ref_len"] == 18
assert j["signature"] == "nrefs:2|case:mixed|eff:no|tok:13a|smooth:exp|version:2.3.1"' "$json"; then
  ok "bleu --json with two references: score and signature, nothing else printed"
else
  not_ok "bleu --json with two references" "$json"
fi

head -2 ref2 >short
out=$("$NL" eval --metric bleu --hyp sys -r ref1 short 2>&1)
if [ "$out" = "normlab: error: sys: 3 lines, but the reference short has 2" ]; then
  ok "a reference file of another length is named"
else
  not_ok "a reference file of another length is named" "$out"
fi
out=$("$NL" eval --metric rouge --hyp sys -r ref1 ref2 2>&1)
if [ "$out" = "normlab: error: ref2: rouge takes one reference file" ]; then
  ok "rouge refuses a second reference file"
else
  not_ok "rouge refuses a second reference file" "$out"
fi
finish

#!/usr/bin/env bash
# `normlab eval` with several reference files (as `sacrebleu -r ref1 ref2`): sacreBLEU's README
# example reproduced digit for digit, the signature on stderr and in --json, and the errors.
# Usage: bash test_eval_references.sh PATH_TO_normlab REPO_ROOT
set -uo pipefail
NL=$(realpath "$1")
ROOT=$(realpath "$2")
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
source "$ROOT/tests/cli/lib.sh"
cd "$W"

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

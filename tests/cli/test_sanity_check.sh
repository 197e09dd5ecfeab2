#!/usr/bin/env bash
# `normlab sanity-check` through the CLI: the verdict table, the progress lines, the JSON file,
# designs with a known verdict, data from a prepared corpus, and user errors.
# Called by ctest as: bash test_sanity_check.sh PATH_TO_normlab REPO_ROOT
set -uo pipefail
NL=$(realpath "$1")
ROOT=$(realpath "$2")
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
source "$ROOT/tests/cli/lib.sh"
cd "$W" || exit 1

SMALL=(--d_model 32 --n_heads 2 --d_ff 64 --seq_len 16 --batch_size 4 --vocab_size 64
       --sanity-seeds 1 --sanity-batches 1 --threads 2)

# ---- a run with training: table, progress, JSON
if "$NL" sanity-check "${SMALL[@]}" --depths 2,4,8 --sanity-steps 2 --json_out "$W/pre.json" \
  >"$W/pre.out" 2>"$W/pre.err"; then
  ok "sanity-check runs (pre, depths 2,4,8, 2 steps)"
else
  not_ok "sanity-check runs (pre, depths 2,4,8, 2 steps)" "$(cat "$W/pre.err")"
fi
rows=$(awk '$1 ~ /^[0-9]+$/ {print $1}' "$W/pre.out" | tr '\n' ' ')
if [ "$rows" = "2 4 8 " ]; then ok "one table row per depth"; else
  not_ok "one table row per depth" "rows: '$rows'" "$(cat "$W/pre.out")"; fi
HEADER="placement pre, norm layernorm, dt 1, init xavier, d_model 32"
if head -1 "$W/pre.out" | grep -q "$HEADER"; then
  ok "header names the design"
else
  not_ok "header names the design" "$(head -1 "$W/pre.out")"
fi
n=0
FWD='(bounded|linear|exponential) '
BWD='(vanishing|flat|exploding) '
for pat in "^forward +init +$FWD" "^gradient +init +$BWD" "^forward +trained:2 +$FWD" \
  "^gradient +trained:2 +$BWD"; do
  grep -Eq "$pat" "$W/pre.out" && n=$((n + 1))
done
if [ $n -eq 4 ]; then ok "four verdict lines"
else not_ok "four verdict lines" "$(cat "$W/pre.out")"; fi
PROGRESS='^sanity-check: depth [0-9]*: init forward .*after 2 steps'
if [ "$(grep -c "$PROGRESS" "$W/pre.err")" -eq 3 ]; then
  ok "a progress line per depth on stderr"
else
  not_ok "a progress line per depth on stderr" "$(cat "$W/pre.err")"
fi
table_verdict=$(awk '$1 == "forward" && $2 == "init" {print $3}' "$W/pre.out")
if "$PY" - "$W/pre.json" "$table_verdict" >"$W/json.out" 2>&1 <<'EOF2'
import json, math, sys
j = json.load(open(sys.argv[1]))
assert [d["depth"] for d in j["depths"]] == [2, 4, 8], j["depths"]
assert j["settings"]["depths"] == [2, 4, 8] and j["settings"]["train_steps"] == 2
assert j["config"]["placement"] == "pre" and j["config"]["d_model"] == 32
assert j["init_scheme"] == "xavier"
for d in j["depths"]:
    for state in ("init", "trained"):
        m = d[state]
        assert m["forward"] > 0 and m["backward"] > 0, m
        assert math.isclose(m["forward"], m["top_rms"] / m["bottom_rms"], rel_tol=1e-6), m
        assert math.isclose(m["backward"], m["grad_bottom"] / m["grad_top"], rel_tol=1e-6), m
    assert d["first_loss"] > 0 and d["last_loss"] > 0
v = j["verdicts"]
assert v["init"]["forward"]["verdict"] == sys.argv[2], (v, sys.argv[2])
for state in ("init", "trained"):
    for k in ("rate_per_layer", "factor_per_layer", "power", "rss", "points"):
        assert k in v[state]["forward"] and k in v[state]["backward"], k
    assert v[state]["backward"]["verdict"] in ("vanishing", "flat", "exploding")
EOF2
then ok "JSON holds the measurements and the table's verdicts"
else not_ok "JSON holds the measurements and the table's verdicts" "$(cat "$W/json.out")"; fi

# ---- designs with a known forward verdict (initialisation only)
"$NL" sanity-check "${SMALL[@]}" --placement none --init xavier --depths 2,4,8,16 --sanity-steps 0 \
  --json_out "$W/none.json" >"$W/none.out" 2>"$W/none.err"
if grep -Eq '^forward +init +exponential' "$W/none.out"; then
  ok "none + xavier + dt 1 grows exponentially"
else
  not_ok "none + xavier + dt 1 grows exponentially" "$(cat "$W/none.out" "$W/none.err")"
fi
if ! grep -q trained "$W/none.out" && "$PY" -c '
import json, sys
j = json.load(open(sys.argv[1]))
assert "trained" not in j["verdicts"]
assert all("trained" not in d for d in j["depths"])' "$W/none.json"
then ok "--sanity-steps 0 measures initialisation only"
else not_ok "--sanity-steps 0 measures initialisation only" "$(cat "$W/none.out")"; fi
"$NL" sanity-check "${SMALL[@]}" --placement post --depths 2,4,8 --sanity-steps 0 \
  >"$W/post.out" 2>"$W/post.err"
if grep -Eq '^forward +init +bounded' "$W/post.out"; then ok "post is bounded forward"
else not_ok "post is bounded forward" "$(cat "$W/post.out" "$W/post.err")"; fi
"$NL" sanity-check "${SMALL[@]}" --placement peri --depths 2,4,8 --sanity-steps 0 \
  >"$W/peri.out" 2>"$W/peri.err"
if grep -Eq '^forward +init +(bounded|linear)' "$W/peri.out"; then ok "peri is not exponential"
else not_ok "peri is not exponential" "$(cat "$W/peri.out" "$W/peri.err")"; fi

# ---- small defaults, overridable by flags
"$NL" sanity-check --dump-config >"$W/dump.out" 2>&1
if grep -q '^d_model: 64' "$W/dump.out" && grep -q '^seq_len: 32' "$W/dump.out" &&
  grep -q '^vocab_size: 256' "$W/dump.out"; then
  ok "small width by default"
else
  not_ok "small width by default" "$(grep -E '^(d_model|seq_len|vocab_size)' "$W/dump.out")"
fi
"$NL" sanity-check --dump-config --d_model 48 >"$W/dump2.out" 2>&1
if grep -q '^d_model: 48' "$W/dump2.out"; then ok "flags override the small defaults"
else not_ok "flags override the small defaults" "$(grep d_model "$W/dump2.out")"; fi

# ---- data from a prepared corpus: vocab_size from the token file
if [ -f "$FORTUNES/pets.u8" ] &&
  "$NL" prepare --input "$CORPUS_FILES" --vocab_size $VOCAB --out_dir "$W/data" \
    >/dev/null 2>&1; then
  if "$NL" sanity-check "${SMALL[@]}" --data "$W/data" --depths 2,4 --sanity-steps 1 \
    --json_out "$W/data.json" >"$W/data.out" 2>"$W/data.err" &&
    "$PY" -c '
import json, sys
j = json.load(open(sys.argv[1]))
assert j["config"]["vocab_size"] == int(sys.argv[2]), j["config"]["vocab_size"]
assert j["data"].endswith("train.bin"), j["data"]' "$W/data.json" $VOCAB; then
    ok "--data reads train.bin and takes its vocabulary"
  else
    not_ok "--data reads train.bin and takes its vocabulary" "$(cat "$W/data.out" "$W/data.err")"
  fi
else
  not_ok "prepare a corpus for --data" "fortunes missing or prepare failed"
fi

# ---- user errors
"$NL" sanity-check "${SMALL[@]}" --data "$W/nowhere" >"$W/e1.out" 2>"$W/e1.err"
rc=$?
if [ $rc -eq 1 ] && grep -q "^normlab: error: $W/nowhere/train.bin: " "$W/e1.err"; then
  ok "missing corpus: error names the file"
else
  not_ok "missing corpus: error names the file" "rc=$rc" "$(cat "$W/e1.err")"
fi
if "$NL" sanity-check "${SMALL[@]}" --depths 2,0 >"$W/e2.out" 2>"$W/e2.err"; then
  not_ok "depth 0 is rejected" "$(cat "$W/e2.out")"
else
  ok "depth 0 is rejected"
fi
"$NL" sanity-check "${SMALL[@]}" --depths 2 --sanity-steps 0 --json_out "$W/no/such/dir/x.json" \
  >"$W/e3.out" 2>"$W/e3.err"
rc=$?
if [ $rc -eq 1 ] && grep -q "^normlab: error: $W/no/such/dir/x.json: cannot write" "$W/e3.err"; then
  ok "unwritable --json_out: error names the file"
else
  not_ok "unwritable --json_out: error names the file" "rc=$rc" "$(cat "$W/e3.err")"
fi

finish

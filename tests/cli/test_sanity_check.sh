#!/usr/bin/env bash
# `normlab sanity-check` through the CLI: the verdict table, the progress lines, the JSON file
# and its schema, designs with a known architecture verdict and with a known outcome, data from a
# prepared corpus, and user errors.
# Called by ctest as: bash test_sanity_check.sh PATH_TO_normlab REPO_ROOT
set -uo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
begin_cli_test "$@"
cd "$W" || exit 1

SMALL=(--d_model 32 --n_heads 2 --d_ff 64 --seq_len 16 --batch_size 4 --vocab_size 64
       --sanity-seeds 1 --sanity-batches 1 --threads 2)
# A depth law is named from 4 depths spanning 4x at least (docs/sanity-check.md).

# ---- a run with training: table, progress, JSON
if "$NL" sanity-check "${SMALL[@]}" --depths 1,2,4,8 --sanity-steps 2 --json_out "$W/pre.json" \
  >"$W/pre.out" 2>"$W/pre.err"; then
  ok "sanity-check runs (pre, depths 1,2,4,8, 2 steps)"
else
  not_ok "sanity-check runs (pre, depths 1,2,4,8, 2 steps)" "$(cat "$W/pre.err")"
fi
rows=$(awk '$1 ~ /^[0-9]+$/ {print $1}' "$W/pre.out" | tr '\n' ' ')
if [ "$rows" = "1 2 4 8 " ]; then ok "one table row per depth"; else
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
if [ "$(grep -c "$PROGRESS" "$W/pre.err")" -eq 4 ]; then
  ok "a progress line per depth on stderr"
else
  not_ok "a progress line per depth on stderr" "$(cat "$W/pre.err")"
fi
table_verdict=$(awk '$1 == "forward" && $2 == "init" {print $3}' "$W/pre.out")
if "$PY" - "$W/pre.json" "$table_verdict" >"$W/json.out" 2>&1 <<'EOF2'
import json, math, sys
j = json.load(open(sys.argv[1]))
assert [d["depth"] for d in j["depths"]] == [1, 2, 4, 8], j["depths"]
assert j["settings"]["depths"] == [1, 2, 4, 8] and j["settings"]["train_steps"] == 2
assert j["config"]["placement"] == "pre" and j["config"]["d_model"] == 32
assert j["init_scheme"] == "xavier"
for d in j["depths"]:
    for state in ("init", "trained"):
        m = d[state]
        assert m["forward"] > 0 and m["backward"] > 0, m
        assert math.isclose(m["forward"], m["top_rms"] / m["bottom_rms"], rel_tol=1e-6), m
        assert math.isclose(m["backward"], m["grad_bottom"] / m["grad_top"], rel_tol=1e-6), m
    assert d["first_loss"] > 0 and d["last_loss"] > 0
    # The trial's curve: one loss per step, from the first loss to the last.
    c = d["trial_loss"]
    assert len(c) == j["settings"]["train_steps"], c
    assert c[0] == d["first_loss"] and c[-1] == d["last_loss"], (c, d)
v = j["verdicts"]
assert v["init"]["forward"]["verdict"] == sys.argv[2], (v, sys.argv[2])
for state in ("init", "trained"):
    for k in ("rate_per_layer", "factor_per_layer", "power", "rss", "points"):
        assert k in v[state]["forward"] and k in v[state]["backward"], k
    assert v[state]["backward"]["verdict"] in ("vanishing", "flat", "exploding")
EOF2
then ok "JSON holds the measurements and the table's verdicts"
else not_ok "JSON holds the measurements and the table's verdicts" "$(cat "$W/json.out")"; fi
# The per-depth prediction's schema (docs/sanity-check.md, "JSON"), and the table agrees with it.
table_outcomes=$(awk '$1 ~ /^[0-9]+$/ {print $2}' "$W/pre.out" | tr '\n' ' ')
if "$PY" - "$W/pre.json" "$table_outcomes" >"$W/schema.out" 2>&1 <<'EOF2'
import json, math, sys
j = json.load(open(sys.argv[1]))
assert isinstance(j["unigram_loss"], float) and j["unigram_loss"] > 0
assert isinstance(j["trial_warmup"], int)
num = (int, float)
for d in j["depths"]:
    p = d["prediction"]
    assert set(p) == {"outcome", "spiky", "confidence", "reasons"}, p
    assert p["outcome"] in ("trains", "stalls", "diverges") and isinstance(p["spiky"], bool)
    assert 0.5 <= p["confidence"] < 1 and p["reasons"] and all(isinstance(r, str) for r in p["reasons"])
    e = d["evidence"]
    for k in ("unigram_loss", "first_loss", "end_loss", "end_unigram_loss", "gain_over_unigram",
              "update_bottom",
              "update_top", "grad_rms_bottom", "grad_rms_top", "adam_eps", "grad_bottom_over_top",
              "forward_growth", "max_sublayer_rms"):
        assert isinstance(e[k], num) or e[k] is None, (k, e[k])
    assert isinstance(e["steps"], int) and isinstance(e["spikes"], int)
    assert isinstance(e["non_finite"], bool) and isinstance(e["stop_reason"], str)
    assert math.isclose(e["gain_over_unigram"], e["unigram_loss"] - e["end_loss"], rel_tol=1e-9)
    # The unigram level of the trial's last batches is one of the per-step levels.
    levels = d["trial_unigram_loss"]
    assert len(levels) == len(d["trial_loss"]) and all(v > 0 for v in levels), levels
    assert min(levels) - 1e-9 <= e["end_unigram_loss"] <= max(levels) + 1e-9, e
    # 2 steps: the coordinate check has step 1 only; one row per block, both sublayers.
    assert [c["step"] for c in d["coord_check"]] == [1], d["coord_check"]
    for c in d["coord_check"]:
        assert len(c["blocks"]) == d["depth"] and c["top_rms"] > 0
        for b in c["blocks"]:
            assert set(b) == {"input_rms", "sublayer_out_rms", "update_ratio", "grad_rms"}, b
            assert len(b["sublayer_out_rms"]) == 2 and b["update_ratio"] > 0 and b["grad_rms"] > 0
assert " ".join(d["prediction"]["outcome"] for d in j["depths"]) + " " == sys.argv[2], sys.argv[2]
EOF2
then ok "JSON prediction schema, and the table's predictions"
else not_ok "JSON prediction schema, and the table's predictions" "$(cat "$W/schema.out")"; fi
if grep -Eq '^(forward|gradient) +(init|trained:2) +too few depths' "$W/pre.out"; then
  not_ok "4 depths spanning 8x name a law" "$(cat "$W/pre.out")"
else ok "4 depths spanning 8x name a law"; fi
"$NL" sanity-check "${SMALL[@]}" --depths 2,4,8 --sanity-steps 0 >"$W/few.out" 2>"$W/few.err"
if [ "$(grep -Ec '^(forward|gradient) +init +too few depths$' "$W/few.out")" -eq 2 ]; then
  ok "3 depths: too few depths for a law, and no fitted slope beside it"
else not_ok "3 depths: too few depths for a law, and no fitted slope beside it" "$(cat "$W/few.out" "$W/few.err")"; fi

# ---- outcomes of designs whose behaviour is known (docs/sanity-check.md, "Prediction"); the
# run predicted is 300 steps with 30 warmup steps, the trial 100 steps
RUN=(--steps 300 --warmup 30 --sanity-steps 100)
predicted() { awk -v L="$1" '$1 == L {print $2}' "$2"; }
"$NL" sanity-check "${SMALL[@]}" "${RUN[@]}" --placement none --init xavier --lr 0.1 --depths 8 \
  >"$W/none_hi.out" 2>"$W/none_hi.err"
if [ "$(predicted 8 "$W/none_hi.out")" = diverges ]; then
  ok "none without scaling at lr 0.1 diverges"
else not_ok "none without scaling at lr 0.1 diverges" "$(cat "$W/none_hi.out" "$W/none_hi.err")"; fi
"$NL" sanity-check "${SMALL[@]}" "${RUN[@]}" --placement post --lr 1e-2 --depths 16 \
  >"$W/post16.out" 2>"$W/post16.err"
if [ "$(predicted 16 "$W/post16.out")" = stalls ] && grep -q "L=16: bottom-block gradient rms" "$W/post16.out"; then
  ok "deep post at lr 1e-2 stalls, its bottom gradient below Adam's eps"
else not_ok "deep post at lr 1e-2 stalls, its bottom gradient below Adam's eps" "$(cat "$W/post16.out" "$W/post16.err")"; fi
"$NL" sanity-check "${SMALL[@]}" "${RUN[@]}" --placement peri --lr 1e-2 --depths 8 \
  >"$W/peri8.out" 2>"$W/peri8.err"
if [ "$(predicted 8 "$W/peri8.out")" = trains ]; then ok "peri at lr 1e-2 trains"
else not_ok "peri at lr 1e-2 trains" "$(cat "$W/peri8.out" "$W/peri8.err")"; fi

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
"$NL" sanity-check "${SMALL[@]}" --placement post --depths 2,4,8,16 --sanity-steps 0 \
  >"$W/post.out" 2>"$W/post.err"
if grep -Eq '^forward +init +bounded' "$W/post.out"; then ok "post is bounded forward"
else not_ok "post is bounded forward" "$(cat "$W/post.out" "$W/post.err")"; fi
"$NL" sanity-check "${SMALL[@]}" --placement peri --depths 2,4,8,16 --sanity-steps 0 \
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

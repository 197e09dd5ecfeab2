#!/usr/bin/env bash
# `normlab sweep`: a 2x2 grid of tiny models, summary.csv, skipping finished runs, resuming a sweep
# killed (SIGKILL) in the middle of a run with results identical to an uninterrupted sweep, sweep
# files, and one-line errors for bad grids before anything runs.
# Called by ctest as: bash test_sweep.sh PATH_TO_normlab REPO_ROOT
set -uo pipefail
NL=$(realpath "$1")
ROOT=$(realpath "$2")
W=$(mktemp -d)
BG=
trap '[ -n "$BG" ] && kill -9 "$BG" 2>/dev/null; rm -rf "$W"' EXIT
source "$ROOT/tests/cli/lib.sh"
cd "$W"

FORT=/usr/share/games/fortunes
for f in linux.u8 science.u8; do
  if [ ! -f "$FORT/$f" ]; then
    not_ok "corpus present" "$FORT/$f is missing: apt-get install fortunes"
    finish
    exit 1
  fi
done
# 300 (the brief's first guess) is below what SentencePiece accepts for these files (~354).
"$NL" prepare --input "$FORT/linux.u8,$FORT/science.u8" --out_dir data --vocab_size 400 \
  >/dev/null 2>prep.err || { not_ok "fixture: prepare" "$(cat prep.err)"; finish; exit 1; }

# Fixed thread count (training is deterministic given seed and threads); one thread, because
# OpenMP barriers crawl on a loaded 2-core machine and these models are too small to split.
TINY=(--data data --d_model 32 --n_heads 2 --d_ff 64 --seq_len 32 --batch_size 4 --eval_batches 2
      --steps 20 --save_every 5 --log_every 1 --threads 1 --progress false)
GRID=(--placements pre,b2t --depths 1,2 --lrs 3e-3 --dts 1 --seeds 1)
RUNS=(pre-L1-lr3e-3-dt1-s1 pre-L2-lr3e-3-dt1-s1 b2t-L1-lr3e-3-dt1-s1 b2t-L2-lr3e-3-dt1-s1)

# ---- 1. a full 2x2 sweep
rc=0
"$NL" sweep "${TINY[@]}" "${GRID[@]}" --out_dir s1 >s1.out 2>s1.err || rc=$?
if [ "$rc" -eq 0 ]; then ok "sweep of 4 runs exits 0"; else
  not_ok "sweep of 4 runs exits 0" "rc=$rc" "$(tail -5 s1.err)"; fi

rows=$(tail -n +2 s1/summary.csv 2>/dev/null | wc -l)
header=$(head -1 s1/summary.csv 2>/dev/null)
want_header="run,placement,norm,n_layers,lr,dt,seed,status,steps,final_loss,final_valid_loss"
want_header+=",skipped_steps"
if [ "$rows" -eq 4 ] && [ "$header" = "$want_header" ]; then
  ok "summary.csv has the header and 4 rows"
else
  not_ok "summary.csv has the header and 4 rows" "header: $header" "rows: $rows"
fi
got_runs=$(tail -n +2 s1/summary.csv | cut -d, -f1 | tr '\n' ' ')
if [ "$got_runs" = "${RUNS[*]} " ]; then ok "runs named and ordered as the grid: $got_runs"; else
  not_ok "runs named and ordered as the grid" "got: $got_runs" "want: ${RUNS[*]}"; fi
if [ "$(cut -d, -f8,9,12 s1/summary.csv | tail -n +2 | sort -u)" = "ok,20,0" ]; then
  ok "every row: status ok, 20 steps, 0 skipped"
else
  not_ok "every row: status ok, 20 steps, 0 skipped" "$(cat s1/summary.csv)"
fi
missing=()
for r in "${RUNS[@]}"; do
  for f in config.yaml metrics.jsonl diagnostics.jsonl summary.json checkpoint.safetensors; do
    [ -s "s1/$r/$f" ] || missing+=("s1/$r/$f")
  done
done
if [ ${#missing[@]} -eq 0 ]; then ok "every run directory has its files"; else
  not_ok "every run directory has its files" "missing: ${missing[*]}"; fi
if grep -q '^\[4/4\] b2t-L2-lr3e-3-dt1-s1: ok, valid loss [0-9.]*$' s1.err; then
  ok "one progress line per run on stderr"
else
  not_ok "one progress line per run on stderr" "$(grep '^\[' s1.err)"
fi
tmp=$(leftover_tmp s1)
if [ -z "$tmp" ]; then ok "no temporary files left"; else
  not_ok "no temporary files left" "$tmp"; fi

# ---- 2. rerun: everything is done
cp s1/summary.csv s1.csv
rc=0
"$NL" sweep "${TINY[@]}" "${GRID[@]}" --out_dir s1 >/dev/null 2>s1b.err || rc=$?
if [ "$rc" -eq 0 ] && [ "$(grep -c ': skipped (done)$' s1b.err)" -eq 4 ] &&
  ! grep -q '^step' s1b.err && cmp -s s1.csv s1/summary.csv; then
  ok "rerun skips all 4 finished runs and rewrites the same summary.csv"
else
  not_ok "rerun skips all 4 finished runs and rewrites the same summary.csv" "rc=$rc" \
    "$(cat s1b.err)"
fi

# ---- 3. interrupt a sweep with SIGKILL in the middle of its second run, then rerun it
SUB=(--placements b2t --depths 1,2 --lrs 3e-3 --dts 1 --seeds 1)
A=s2/b2t-L1-lr3e-3-dt1-s1
B=s2/b2t-L2-lr3e-3-dt1-s1
"$NL" sweep "${TINY[@]}" "${SUB[@]}" --out_dir s2 >/dev/null 2>s2a.err &
BG=$!
kill_during_second_run "$BG" "$A" "$B"
killed=$KILLED
BG=
if [ "$killed" -eq 1 ] && [ ! -f "$B/summary.json" ]; then
  ok "sweep killed while its second run was in progress"
else
  not_ok "sweep killed while its second run was in progress" "$(tail -3 s2a.err)"
fi
lines_before=$(wc -l <"$B/metrics.jsonl" 2>/dev/null || echo 0)

rc=0
"$NL" sweep "${TINY[@]}" "${SUB[@]}" --out_dir s2 >/dev/null 2>s2b.err || rc=$?
if [ "$rc" -eq 0 ]; then ok "rerun of the interrupted sweep exits 0"; else
  not_ok "rerun of the interrupted sweep exits 0" "rc=$rc" "$(tail -5 s2b.err)"; fi
if grep -q '^\[1/2\] b2t-L1-lr3e-3-dt1-s1: skipped (done)$' s2b.err; then
  ok "the finished run is skipped"
else
  not_ok "the finished run is skipped" "$(grep '^\[' s2b.err)"
fi
S=$(sed -n 's/^\[2\/2\] b2t-L2-lr3e-3-dt1-s1: resumed at step \([0-9]*\)$/\1/p' s2b.err)
if [ -n "$S" ] && [ "$S" -ge 5 ] && [ "$S" -lt 20 ]; then
  ok "the interrupted run resumes at its checkpoint (step $S)"
else
  not_ok "the interrupted run resumes at its checkpoint" "$(grep '^\[' s2b.err)"
fi
# On resume train() drops the lines written after the checkpoint and continues at step S+1: every
# training step appears exactly once, in order, and step S+1 is there.
steps_ok=$($PY -c 'import json, sys
steps = [json.loads(l)["step"] for l in open(sys.argv[1]) if "loss" in json.loads(l)]
s = int(sys.argv[2])
print(int(steps == sorted(set(steps)) and s + 1 in steps))' "$B/metrics.jsonl" "${S:-0}" 2>/dev/null)
step0_lines=$($PY -c 'import json, sys
print(sum(json.loads(l)["step"] == 0 for l in open(sys.argv[1])))' "$B/metrics.jsonl" 2>/dev/null)
first_new="steps once each, in order"
if [ -n "$S" ] && [ "$steps_ok" = 1 ] && [ "$step0_lines" = 1 ]; then
  ok "metrics.jsonl continues from the checkpoint: $first_new"
else
  not_ok "metrics.jsonl continues from the checkpoint" "lines before: $lines_before" \
    "first new line: $first_new"
fi
for r in b2t-L1-lr3e-3-dt1-s1 b2t-L2-lr3e-3-dt1-s1; do
  a=$(grep -E '"final_(valid_)?loss"' "s1/$r/summary.json")
  b=$(grep -E '"final_(valid_)?loss"' "s2/$r/summary.json" 2>/dev/null)
  if [ -n "$a" ] && [ "$a" = "$b" ]; then
    ok "$r: final losses identical to the uninterrupted sweep"
  else
    not_ok "$r: final losses identical to the uninterrupted sweep" "uninterrupted: $a" \
      "interrupted: $b"
  fi
done
if [ "$(tail -n +2 s2/summary.csv | wc -l)" -eq 2 ] && [ -z "$(leftover_tmp s2)" ]; then
  ok "summary.csv of the resumed sweep has 2 rows, no temporary files left"
else
  not_ok "summary.csv of the resumed sweep has 2 rows, no temporary files left" \
    "$(cat s2/summary.csv)" "$(leftover_tmp s2)"
fi

# ---- 4. sweep files
cat >grid.yaml <<'EOF'
# the grid of section 1, as a file
grid:
  placement: [pre, b2t]
  n_layers: [1, 2]
  lr: [0.003]
base:
  dt: 1
EOF
if "$NL" sweep "${TINY[@]}" --sweep grid.yaml --out_dir s1 --list >list.out 2>list.err &&
  [ "$(cut -f1 list.out | tr '\n' ' ')" = "${RUNS[*]} " ] &&
  [ "$(cut -f2 list.out | sort -u)" = done ]; then
  ok "a YAML sweep file gives the same runs, all done"
else
  not_ok "a YAML sweep file gives the same runs, all done" "$(cat list.out list.err)"
fi
echo '{"grid": {"d_model": [32, 48], "dt": ["1/sqrt(L)"], "seed": [1, 2]},
 "base": {"n_layers": 3}}' >grid.json
want=
for d in 32 48; do for s in 1 2; do want+="pre-L3-lr1e-3-dt1_sqrtL-d_model$d-s$s "; done; done
if "$NL" sweep --data data --sweep grid.json --out_dir s3 --list >list.out 2>list.err &&
  [ "$(cut -f1 list.out | tr '\n' ' ')" = "$want" ] && [ ! -e s3 ]; then
  ok "a JSON sweep file: any option as an axis, '1/sqrt(L)' sanitised"
else
  not_ok "a JSON sweep file: any option as an axis, '1/sqrt(L)' sanitised" \
    "$(cat list.out list.err)"
fi

# ---- 5. errors: one line, before any run starts (no sweep directory created)
# expect_error DESC NEEDLE CMD...
expect_error() {
  local desc=$1 needle=$2
  shift 2
  local rc=0
  "$@" >err.out 2>err.txt || rc=$?
  local first problems=()
  first=$(head -1 err.txt)
  [ "$rc" -eq 1 ] || problems+=("exit code $rc, expected 1")
  [ "$(wc -l <err.txt)" -eq 1 ] || problems+=("$(wc -l <err.txt) lines on stderr, expected 1")
  [[ "$first" == "normlab: error: "*"$needle"* ]] || problems+=("message does not name '$needle'")
  [ ! -e bad ] || problems+=("sweep directory 'bad' was created")
  if [ ${#problems[@]} -eq 0 ]; then ok "$desc: $first"; else
    not_ok "$desc" "${problems[@]}" "stderr: $(head -c 1000 err.txt)"; fi
  rm -rf bad
}
printf 'grid:\n  lr: [1e-3]\nbse:\n  steps: 5\n' >unknown.yaml
expect_error "sweep file with an unknown key" "unknown.yaml: line 3: unknown key 'bse'" \
  "$NL" sweep "${TINY[@]}" --sweep unknown.yaml --out_dir bad
printf 'grid:\n  lrr: [1e-3]\n' >typo.yaml
expect_error "sweep file with an unknown option" "typo.yaml: line 2: unknown option 'lrr'" \
  "$NL" sweep "${TINY[@]}" --sweep typo.yaml --out_dir bad
expect_error "bad depth" "--depths: option 'n_layers' expects an integer, got 'x'" \
  "$NL" sweep "${TINY[@]}" --depths 1,x --out_dir bad
expect_error "bad dt in one cell" "bad/pre-L1-lr1e-3-dtfoo-s1: option 'dt'" \
  "$NL" sweep "${TINY[@]}" --depths 1,2 --dts 1,foo --out_dir bad
expect_error "bad placement" "--placements: option 'placement' must be one of" \
  "$NL" sweep "${TINY[@]}" --placements pre,middle --out_dir bad
expect_error "flag on a grid axis" "--lr: 'lr' is a grid axis" \
  "$NL" sweep "${TINY[@]}" --lrs 1e-3,2e-3 --lr 1e-3 --out_dir bad
STEPS30=("${TINY[@]}")
set_flag STEPS30 --steps 30
expect_error "changed config over a finished run" "summary.json: this run was made with steps 20" \
  "$NL" sweep "${STEPS30[@]}" "${GRID[@]}" --out_dir s1

# ---- a grid stays in one matmul precision: precision auto follows the CPU, so a sweep continued
# on another kind of machine must not train its remaining cells in another precision
trained=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["matmul_precision"])' \
  "s1/${RUNS[0]}/summary.json")
trained=${trained%% *}  # "bf16 (emulated)" has bf16's numerics
other=bf16
[ "$trained" = bf16 ] && other=fp32
cp -r s1 sp
for r in "${RUNS[@]}"; do  # as if the grid had been trained on a machine where auto meant $other
  "$PY" - "sp/$r/summary.json" "$other" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
s["matmul_precision"] = sys.argv[2]
json.dump(s, open(sys.argv[1], "w"))
EOF
done
expect_error "finished cells in another precision than auto means here" \
  "${RUNS[0]}/summary.json: this run trained with $other matmuls, the sweep would train $trained" \
  "$NL" sweep "${TINY[@]}" "${GRID[@]}" --out_dir sp
rc=0
"$NL" sweep "${TINY[@]}" "${GRID[@]}" --precision "$other" --out_dir sp >/dev/null 2>sp.err || rc=$?
if [ "$rc" -eq 0 ] && [ "$(grep -c ': skipped (done)$' sp.err)" -eq 4 ]; then
  ok "--precision $other matches the grid's cells (compared as trained, not as written)"
else
  not_ok "--precision $other matches the grid's cells" "rc=$rc" "$(cat sp.err)"
fi
# A cell killed without a summary: its checkpoint records the precision.
cp -r s1 sk
rm "sk/${RUNS[1]}/summary.json"
set_metadata "sk/${RUNS[1]}/checkpoint.safetensors" normlab.matmul_precision "$other"
expect_error "an interrupted cell whose checkpoint is in another precision" \
  "${RUNS[1]}/checkpoint.safetensors: this run trained with $other matmuls" \
  "$NL" sweep "${TINY[@]}" "${GRID[@]}" --out_dir sk
expect_error "a cell trained in $trained, the sweep asked for $other" \
  "${RUNS[0]}/summary.json: this run trained with $trained matmuls, the sweep would train $other" \
  "$NL" sweep "${TINY[@]}" "${GRID[@]}" --precision "$other" --out_dir s1

finish

#!/usr/bin/env bash
# `normlab sweep --shard I/N`: several processes sharing one sweep directory, as a Slurm job array
# does. Two shards (1/2, 2/2) run each cell of a 2x2 grid exactly once and leave the serial sweep's
# summary.csv; two processes racing on the same cells split them, each cell once; a shard killed
# (SIGKILL) mid-run leaves no stale lock, and rerunning it finishes with the serial results; bad
# --shard values are one-line errors.
# Called by ctest as: bash test_sweep_shards.sh PATH_TO_normlab REPO_ROOT
set -uo pipefail
NL=$(realpath "$1")
ROOT=$(realpath "$2")
W=$(mktemp -d)
BG=()
trap 'for p in "${BG[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$W"' EXIT
source "$ROOT/tests/cli/lib.sh"
cd "$W"

require_corpus
prepare_corpus data
# Fixed thread count: training is deterministic given the config and the threads.
SMALL=(--data data --d_model 32 --n_heads 2 --d_ff 64 --seq_len 32 --batch_size 4 --eval_batches 2
       --steps 20 --warmup 5 --save_every 5 --log_every 1 --threads 1 --progress false)
GRID=(--placements pre,b2t --depths 1,2 --lrs 3e-3 --dts 1 --seeds 1)
RUNS=(pre-L1-lr3e-3-dt1-s1 pre-L2-lr3e-3-dt1-s1 b2t-L1-lr3e-3-dt1-s1 b2t-L2-lr3e-3-dt1-s1)

# trained_runs ERR...: the runs the processes whose stderr files are given trained to the end, one
# name a line, sorted (a run trained twice appears twice).
trained_runs() {
  cat "$@" | sed -n 's/^\[[0-9]*\/[0-9]*\] \([^:]*\): ok, valid loss .*/\1/p' | sort
}
ALL_ONCE=$(printf '%s\n' "${RUNS[@]}" | sort)

# ---- the serial sweep, the reference
reference_sweep serial 4 "${SMALL[@]}" "${GRID[@]}"

# ---- 1. shards 1/2 and 2/2 at once
"$NL" sweep "${SMALL[@]}" "${GRID[@]}" --out_dir s1 --shard 1/2 >/dev/null 2>s1a.err &
BG=($!)
"$NL" sweep "${SMALL[@]}" "${GRID[@]}" --out_dir s1 --shard 2/2 >/dev/null 2>s1b.err
rc_b=$?
wait "${BG[0]}"
rc_a=$?
BG=()
check_that "shards 1/2 and 2/2 exit 0" '[ "$rc_a" -eq 0 ] && [ "$rc_b" -eq 0 ]'
# Round robin in grid order: cells 1 and 3 are shard 1's, cells 2 and 4 shard 2's.
got_a=$(trained_runs s1a.err | tr '\n' ' ')
got_b=$(trained_runs s1b.err | tr '\n' ' ')
want_a=$(printf '%s\n' "${RUNS[0]}" "${RUNS[2]}" | sort | tr '\n' ' ')
want_b=$(printf '%s\n' "${RUNS[1]}" "${RUNS[3]}" | sort | tr '\n' ' ')
if [ "$got_a" = "$want_a" ] && [ "$got_b" = "$want_b" ]; then
  ok "each shard trains its own cells (1/2: $got_a; 2/2: $got_b)"
else
  not_ok "each shard trains its own cells" "1/2: $got_a (want $want_a)" "2/2: $got_b (want $want_b)"
fi
check_same_summary "summary.csv of the two shards equals the serial sweep's" serial s1
if grep -q '^sweep: shard 1/2: 2 of 4 runs (2 trained' s1a.err; then
  ok "closing line names the shard"
else
  not_ok "closing line names the shard" "$(tail -1 s1a.err)"
fi
if "$NL" sweep "${SMALL[@]}" "${GRID[@]}" --out_dir s1 --shard 2/2 --list >list.out 2>list.err &&
  [ "$(cut -f1 list.out | tr '\n' ' ')" = "${RUNS[1]} ${RUNS[3]} " ] &&
  [ "$(cut -f2 list.out | sort -u)" = done ]; then
  ok "--list --shard 2/2 lists that shard's cells, done"
else
  not_ok "--list --shard 2/2 lists that shard's cells, done" "$(cat list.out list.err)"
fi

# ---- 2. two processes racing on the same cells (both the whole grid: shard 1/1)
"$NL" sweep "${SMALL[@]}" "${GRID[@]}" --out_dir s2 --shard 1/1 >/dev/null 2>s2a.err &
BG=($!)
"$NL" sweep "${SMALL[@]}" "${GRID[@]}" --out_dir s2 >/dev/null 2>s2b.err
rc_b=$?
wait "${BG[0]}"
rc_a=$?
BG=()
check_that "two racing sweeps exit 0" '[ "$rc_a" -eq 0 ] && [ "$rc_b" -eq 0 ]'
got=$(trained_runs s2a.err s2b.err)
if [ "$got" = "$ALL_ONCE" ]; then
  ok "the racing sweeps train each cell exactly once ($(trained_runs s2a.err | wc -l) and \
$(trained_runs s2b.err | wc -l))"
else
  not_ok "the racing sweeps train each cell exactly once" "trained: $(echo "$got" | tr '\n' ' ')" \
    "first: $(grep '^\[' s2a.err)" "second: $(grep '^\[' s2b.err)"
fi
check_same_summary "summary.csv of the racing sweeps equals the serial sweep's" serial s2

# ---- 3. a shard killed mid-run (SIGKILL: its locks die with it), then run again
A=s3/${RUNS[0]}
B=s3/${RUNS[2]}
"$NL" sweep "${SMALL[@]}" "${GRID[@]}" --out_dir s3 --shard 1/2 >/dev/null 2>s3a.err &
BG=($!)
kill_during_second_run "${BG[0]}" "$A" "$B"
killed=$KILLED
BG=()
check_that "shard 1/2 killed while its second cell was training" \
  '[ "$killed" -eq 1 ] && [ ! -f "$B/summary.json" ]'
"$NL" sweep "${SMALL[@]}" "${GRID[@]}" --out_dir s3 --shard 2/2 >/dev/null 2>s3b.err
rc_b=$?
"$NL" sweep "${SMALL[@]}" "${GRID[@]}" --out_dir s3 --shard 1/2 >/dev/null 2>s3c.err
rc_c=$?
check_that "shard 2/2, then shard 1/2 again, exit 0" '[ "$rc_b" -eq 0 ] && [ "$rc_c" -eq 0 ]'
# The killed run is taken up again: from its checkpoint, or started over when the kill came
# between its last save and its summary.json; not left as "running in another process".
if grep -q "^\[1/4\] ${RUNS[0]}: skipped (done)$" s3c.err &&
  grep -Eq "^\[3/4\] ${RUNS[2]}: (resumed at step [0-9]+|.*starting over)$" s3c.err &&
  grep -q "^\[3/4\] ${RUNS[2]}: ok, valid loss" s3c.err; then
  ok "the rerun shard skips its finished cell and takes up the killed one (its lock died with it)"
else
  not_ok "the rerun shard skips its finished cell and takes up the killed one" "$(cat s3c.err)"
fi
check_same_summary "summary.csv after the kill and rerun equals the serial sweep's" serial s3

# ---- 4. bad --shard values: one line, nothing created
for bad in 0/2 3/2 a/b 1/0 2 -1/2; do
  expect_error "--shard $bad" "--shard: " "" -- \
    "$NL" sweep "${SMALL[@]}" "${GRID[@]}" --out_dir bad --shard "$bad"
done
check_that "no sweep directory made by a bad --shard" '[ ! -e bad ]'

finish

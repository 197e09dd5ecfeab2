#!/usr/bin/env bash
# `mpirun -np N normlab sweep` (docs/distributed.md, "Sweeps"): the ranks take the cells of a 2x2
# grid as they become free, each cell once, and leave the serial sweep's summary.csv; a rerun
# skips everything; a job whose rank is killed mid-way resumes to the same summary; with
# ranks_per_run 2, 4 ranks train the cells data-parallel in 2 groups, to the same summary as one
# process; bad ranks_per_run values are errors. A normlab built without MPI refuses
# `mpirun ... sweep` saying how to enable MPI (the rest is skipped, exit 77).
# Called by ctest as: bash test_mpi_sweep.sh PATH_TO_normlab REPO_ROOT
set -uo pipefail
NL=$(realpath "$1")
ROOT=$(realpath "$2")
W=$(mktemp -d)
JOB=
trap '[ -n "$JOB" ] && kill -9 "$JOB" 2>/dev/null; rm -rf "$W"' EXIT
# shellcheck source=lib.sh
source "$ROOT/tests/cli/lib.sh"
# shellcheck source=mpi_lib.sh
source "$ROOT/tests/cli/mpi_lib.sh"
require_corpus
cd "$W"

if command -v mpirun >/dev/null; then
  out=$("${MPIRUN[@]}" -np 2 "$NL" sweep --data data --out_dir never 2>&1 || true)
  if [[ "$out" == *"built without MPI"* ]]; then
    if [[ "$out" == *"normlab: error: "*"install libopenmpi-dev"*"rebuild"* ]] &&
      [ ! -e never ]; then
      ok "without MPI, 'mpirun normlab sweep' is refused, saying how to enable MPI"
    else
      not_ok "without MPI, 'mpirun normlab sweep' is refused, saying how to enable MPI" "$out"
    fi
    skip "distributed sweeps" "this normlab was built without MPI"
    finish
    exit 1
  fi
fi
require_mpi
prepare_corpus data

# One thread per rank and per serial run: training is deterministic given config and threads.
SMALL=(--data data --d_model 32 --n_heads 2 --d_ff 64 --seq_len 32 --batch_size 4 --eval_batches 2
       --steps 30 --warmup 5 --save_every 5 --log_every 5 --threads 1 --progress false
       --precision fp32)
GRID=(--placements pre,b2t --depths 1,2 --lrs 3e-3 --dts 1 --seeds 1)
RUNS=(pre-L1-lr3e-3-dt1-s1 pre-L2-lr3e-3-dt1-s1 b2t-L1-lr3e-3-dt1-s1 b2t-L2-lr3e-3-dt1-s1)
ALL_ONCE=$(printf '%s\n' "${RUNS[@]}" | sort)
TAGGED=("${MPIRUN[@]}" --tag-output)

# trained_by ERR: "RANK RUN" for each run a rank of a --tag-output job trained to the end, sorted.
trained_by() {
  local line='^\[[0-9]*,\([0-9]*\)\]<stderr>:\[[0-9]*\/[0-9]*\] \([^:]*\): ok, valid loss .*'
  sed -n "s/$line/\\1 \\2/p" "$1" | sort -k2
}

# ---- the serial sweep, the reference
reference_sweep serial 4 "${SMALL[@]}" "${GRID[@]}"

# ---- 1. two ranks, one cell at a time each
rc=0
"${TAGGED[@]}" -np 2 "$NL" sweep "${SMALL[@]}" "${GRID[@]}" --out_dir s1 >s1.out 2>s1.err || rc=$?
check_that "mpirun -np 2 sweep exits 0" '[ "$rc" -eq 0 ]'
by=$(trained_by s1.err)
if [ "$(echo "$by" | cut -d' ' -f2)" = "$ALL_ONCE" ]; then
  ok "each cell trained exactly once: $(echo "$by" | tr '\n' ',')"
else
  not_ok "each cell trained exactly once" "trained: $(echo "$by" | tr '\n' ',')" \
    "$(grep -v ':step ' s1.err | head -20)"
fi
# The ranks start together (the group split is collective) and a run takes far longer than a
# claim, so rank 1 finds the first cell taken and takes the next: both ranks work.
if [ "$(echo "$by" | cut -d' ' -f1 | sort -u | tr '\n' ' ')" = "0 1 " ]; then
  ok "both ranks trained cells"
else
  not_ok "both ranks trained cells" "$by"
fi
check_same_summary "summary.csv of the 2-rank sweep equals the serial sweep's" serial s1
closing='^\[1,0\]<stderr>:sweep: 4 runs on 2 ranks (4 trained, 0 resumed, 0 skipped as done)'
if [ "$(grep -c '<stderr>:sweep: ' s1.err)" -eq 1 ] && grep -q "$closing, 0 not ok" s1.err; then
  ok "one closing line, rank 0's, with the counts of both ranks"
else
  not_ok "one closing line, rank 0's, with the counts of both ranks" "$(grep 'sweep: ' s1.err)"
fi

# ---- 2. rerun: everything is done, said once
rc=0
"${TAGGED[@]}" -np 2 "$NL" sweep "${SMALL[@]}" "${GRID[@]}" --out_dir s1 >/dev/null 2>s1b.err ||
  rc=$?
if [ "$rc" -eq 0 ] && [ "$(grep -c ': skipped (done)$' s1b.err)" -eq 4 ] &&
  [ "$(grep -c '^\[1,0\]<stderr>:.*: skipped (done)$' s1b.err)" -eq 4 ] &&
  ! grep -q ':step ' s1b.err && cmp -s serial/summary.csv s1/summary.csv; then
  ok "rerun on 2 ranks: rank 0 says the 4 runs are done, nothing trains, same summary.csv"
else
  not_ok "rerun on 2 ranks: rank 0 says the 4 runs are done, nothing trains, same summary.csv" \
    "rc=$rc" "$(head -20 s1b.err)"
fi

# ---- 3. kill rank 1 while a cell is half-trained, then rerun the job
"${TAGGED[@]}" -np 2 "$NL" sweep "${SMALL[@]}" "${GRID[@]}" --out_dir s2 >/dev/null 2>s2a.err &
JOB=$!
# Rank 1 of this job (another test may run normlab under mpirun at the same time): its
# environment says so and it works in this test's directory.
rank1=
for _ in $(seq 1 600); do
  for pid in $(pgrep -f "$NL sweep" || true); do
    [ "$(readlink "/proc/$pid/cwd" 2>/dev/null)" = "$(pwd -P)" ] || continue
    if { tr "\0" "\n" <"/proc/$pid/environ"; } 2>/dev/null | grep -qx OMPI_COMM_WORLD_RANK=1; then
      rank1=$pid
    fi
  done
  [ -n "$rank1" ] && break
  sleep 0.05
done
# The cell rank 1 holds (its open RUN/cell.lock), once that run has a checkpoint and no
# summary.json.
rank1_half_cell() {
  local r
  r=$(readlink /proc/"$rank1"/fd/* 2>/dev/null | sed -n 's|.*/s2/\([^/]*\)/cell\.lock$|\1|p' |
    head -1)
  [ -n "$r" ] && [ -f "s2/$r/checkpoint.safetensors" ] && [ ! -f "s2/$r/summary.json" ] &&
    echo "$r"
}
killed=0
half=
for _ in $(seq 1 3000); do  # up to ~60 s
  if [ -n "$rank1" ] && half=$(rank1_half_cell); then
    kill -9 "$rank1" 2>/dev/null && killed=1
    break
  fi
  kill -0 "$JOB" 2>/dev/null || break
  sleep 0.02
done
rc=0
wait "$JOB" || rc=$?
JOB=
done_before=$(for r in "${RUNS[@]}"; do [ -f "s2/$r/summary.json" ] &&
  grep -q '"status": "ok"' "s2/$r/summary.json" && echo "$r"; done | wc -l)
# (Rank 0 may take up the dead rank's cell and finish every run before mpirun ends the job, so the
# count of finished runs is reported, not asserted.)
if [ "$killed" -eq 1 ] && [ "$rc" -ne 0 ]; then
  ok "rank 1 killed mid-way through $half: the job ends (exit $rc), $done_before of 4 runs finished"
else
  not_ok "rank 1 killed mid-way: the job ends with a non-zero exit" "killed=$killed rc=$rc" \
    "finished: $done_before" "$(grep -v ':step ' s2a.err | tail -5)"
fi
rc=0
"${TAGGED[@]}" -np 2 "$NL" sweep "${SMALL[@]}" "${GRID[@]}" --out_dir s2 >/dev/null 2>s2b.err ||
  rc=$?
check_that "the rerun of the killed job exits 0" '[ "$rc" -eq 0 ]'
# Rank 1's claim died with it: rank 0 may take the run up before mpirun ends the job, else the
# rerun does; from its checkpoint, or over again when the kill came between its last save and its
# summary.json.
taken_up="$half: (resumed at step [0-9]+|.*starting over)$"
if [ -n "$half" ] && cat s2a.err s2b.err | grep -Eq "^\[1,[01]\]<stderr>:\[[0-9]/4\] $taken_up"
then
  ok "$half, the run rank 1 was training, is taken up again: $(cat s2a.err s2b.err |
    grep -Eo "$taken_up")"
else
  not_ok "the run rank 1 was training ($half) is taken up again" \
    "killed job: $(grep -v ':step ' s2a.err | tail -8)" "rerun: $(grep -v ':step ' s2b.err)"
fi
check_same_summary "summary.csv after the kill and rerun equals the serial sweep's" serial s2

# ---- 4. ranks_per_run 2 on 4 ranks: two groups, each cell data-parallel on 2 ranks. grad_accum 2
# splits into one micro-batch per rank, which sums bit for bit as one process does
# (train/training_step.hpp).
ACC=("${SMALL[@]}" --grad_accum 2)
reference_sweep serial2 4 "${ACC[@]}" "${GRID[@]}"
rc=0
"${TAGGED[@]}" -np 4 "$NL" sweep "${ACC[@]}" "${GRID[@]}" --ranks-per-run 2 --out_dir s3 \
  >/dev/null 2>s3.err || rc=$?
check_that "mpirun -np 4 sweep --ranks-per-run 2 exits 0" '[ "$rc" -eq 0 ]'
by=$(trained_by s3.err)
if [ "$(echo "$by" | cut -d' ' -f2)" = "$ALL_ONCE" ] &&
  [ "$(echo "$by" | cut -d' ' -f1 | sort -u | tr '\n' ' ')" = "0 2 " ]; then
  ok "each cell trained once, by the groups' roots, ranks 0 and 2: $(echo "$by" | tr '\n' ',')"
else
  not_ok "each cell trained once, by the groups' roots, ranks 0 and 2" "$by" \
    "$(grep -v ':step ' s3.err | head)"
fi
ranks=$(for r in "${RUNS[@]}"; do grep -o '"ranks": [0-9]*' "s3/$r/summary.json"; done | sort -u)
check_that "every cell ran on 2 ranks (summary.json: $ranks)" '[ "$ranks" = "\"ranks\": 2" ]'
check_same_summary "summary.csv of 2 groups of 2 ranks equals the serial sweep's" serial2 s3

# ---- 5. ranks_per_run that does not divide the ranks
expect_error "ranks_per_run 2 in one process" "option 'ranks_per_run': 2 does not divide the 1" \
  "" -- "$NL" sweep "${SMALL[@]}" "${GRID[@]}" --ranks_per_run 2 --out_dir bad
rc=0
"${MPIRUN[@]}" -np 2 "$NL" sweep "${SMALL[@]}" "${GRID[@]}" --ranks_per_run 3 --out_dir bad \
  >/dev/null 2>bad.err || rc=$?
if [ "$rc" -ne 0 ] && [ "$(grep -c '^normlab: error: ' bad.err)" -eq 1 ] &&
  grep -q "^normlab: error: option 'ranks_per_run': 3 does not divide the 2 rank(s)" bad.err &&
  [ ! -e bad ]; then
  ok "ranks_per_run 3 on 2 ranks: one error line, nothing created"
else
  not_ok "ranks_per_run 3 on 2 ranks: one error line, nothing created" "rc=$rc" "$(cat bad.err)"
fi

finish

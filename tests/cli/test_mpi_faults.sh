#!/usr/bin/env bash
# Faults of a data-parallel run (docs/distributed.md): a rank killed mid-run ends the job within
# seconds, with mpirun's line naming the rank, and --resume continues from the last complete
# checkpoint to the same losses as an uninterrupted run; a run that diverges stops every rank with
# one `diverged at step S` line. Skipped (77) without MPI.
# Called by ctest as: bash test_mpi_faults.sh PATH_TO_normlab REPO_ROOT
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
begin_cli_test "$@"
# shellcheck source=mpi_lib.sh
source "$ROOT/tests/cli/mpi_lib.sh"
require_mpi
require_corpus
check "prepare" "$NL" prepare --input "$CORPUS_FILES" --vocab_size $VOCAB --out_dir data
LM=("${TINY[@]}" --data data --precision fp32 --seed 5 --grad_accum 2 --warmup 5 --log_every 1
    --eval_every 0 --save_every 5 --threads 1)
STEPS=400

# rank_pid R: the pid of rank R of this test's job (another test may run the same binary under
# mpirun at the same time, so the process must also work in this test's directory; mpirun itself
# has no OMPI_COMM_WORLD_RANK).
rank_pid() {
  local pid
  for pid in $(pgrep -f "$NL train" || true); do
    [ "$(readlink "/proc/$pid/cwd" 2>/dev/null)" = "$(pwd -P)" ] || continue
    if { tr "\0" "\n" <"/proc/$pid/environ"; } 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$1"
    then
      echo "$pid"
      return
    fi
  done
}

# wait_for_checkpoint RUN: returns once RUN has its first checkpoint (at most 60 s).
wait_for_checkpoint() {
  for _ in $(seq 600); do
    [ -f "$1/checkpoint.safetensors" ] && break
    sleep 0.1
  done
}

# ---- kill rank 1 once the first checkpoint exists
"${MPIRUN[@]}" -np 2 "$NL" train "${LM[@]}" --out_dir run --steps $STEPS >kill.out 2>kill.err &
job=$!
wait_for_checkpoint run
rank1=$(rank_pid 1)
if [ -n "$rank1" ]; then
  ok "found rank 1 (pid $rank1) after the first checkpoint"
  kill -9 "$rank1"
else
  not_ok "found rank 1 after the first checkpoint" "$(cat kill.err)"
fi
killed_at=$(date +%s)
rc=0
wait $job || rc=$?
took=$(($(date +%s) - killed_at))
if [ $rc -ne 0 ] && [ $took -le 20 ]; then
  ok "the job ends (exit $rc) ${took}s after rank 1 is killed"
else
  not_ok "the job ends within 20 s after rank 1 is killed" "exit $rc after ${took}s"
fi
check "the error names the killed rank" grep -q "rank 1 .*exited on signal 9" kill.err
last=$(grep -c '"loss"' run/metrics.jsonl || true)
if [ "$last" -lt $STEPS ]; then ok "the run stopped early ($last steps logged)"; else
  not_ok "the run stopped early" "$last steps logged"; fi
check "resume on 2 ranks to step 30" "${MPIRUN[@]}" -np 2 "$NL" train "${LM[@]}" --out_dir run \
  --steps 30 --resume
check "one process, 30 steps, uninterrupted" "$NL" train "${LM[@]}" --out_dir ref --steps 30
check "the resumed run has the uninterrupted run's losses (1e-5) and no temporary files" "$PY" -c '
import json, sys
def losses(run):
    return {j["step"]: j["loss"] for j in map(json.loads, open(run + "/metrics.jsonl")) if "loss" in j}
a, b = losses("run"), losses("ref")
assert sorted(a) == list(range(1, 31)), sorted(a)
bad = [s for s in b if abs(a[s] - b[s]) > 1e-5 * abs(b[s])]
assert not bad, [(s, a[s], b[s]) for s in bad]'
check "no temporary files in the run" test -z "$(leftover_tmp run)"

# ---- SIGTERM to every rank (what srun and scancel do): the ranks agree on the step, save it and
# exit 143; rank 0 alone prints the note and the final line
"${MPIRUN[@]}" -np 2 "$NL" train "${LM[@]}" --out_dir term --steps $STEPS >term.out 2>term.err &
job=$!
wait_for_checkpoint term
pids="$(rank_pid 0) $(rank_pid 1)"
# shellcheck disable=SC2086
kill -TERM $pids
rc=0
wait $job || rc=$?
check_that "SIGTERM to both ranks (pids $pids): the job exits 143 (rc $rc)" '[ $rc -eq 143 ]'
step=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["steps"])' term/summary.json)
check "... summary.json says 'interrupted at step $step'" \
  grep -q "\"status\": \"interrupted at step $step\"" term/summary.json
check "... the checkpoint holds step $step" \
  test "$(checkpoint_step term/checkpoint.safetensors)" = "$step"
check_that "... one note and one final line on stderr (rank 0's)" \
  '[ "$(grep -c "^normlab: interrupted" term.err)" -eq 1 ] &&
   [ "$(grep -c "^train: interrupted at step $step by SIGTERM" term.err)" -eq 1 ]'

# ---- an error of rank 0 alone (only the writer checks the run directory): the other ranks wait
# in the first collective, and the job still ends at once with rank 0's one line
expect_error "rank 0's own error ends the job with one line" "holds a run already" "run" -- \
  "${MPIRUN[@]}" -q -np 2 "$NL" train "${LM[@]}" --out_dir run --steps 30

# ---- divergence: the same verdict on every rank, one line
DIVERGE=("${LM[@]}")
set_flag DIVERGE --warmup 0
set_flag DIVERGE --log_every 100
expect_error "2 ranks diverge together" "diverged at step 2" "div" -- \
  "${MPIRUN[@]}" -q -np 2 "$NL" train "${DIVERGE[@]}" --placement none --lr 1e30 --clip_norm 0 \
  --out_dir div --steps 20
# ---- a NaN on one rank only: rank 1 alone takes a 1e30 learning rate (mpirun's MPMD form, one
# command line per rank), so from step 2 its loss is NaN while rank 0's is finite; the summed loss
# gives every rank the same verdict and the job ends with rank 0's one line
ONE=(-np 1 "$NL" train "${DIVERGE[@]}" --placement none --clip_norm 0 --out_dir nan --steps 20)
start=$(date +%s)
expect_error "NaN on rank 1 only: every rank stops" "diverged at step 2" "nan" -- \
  "${MPIRUN[@]}" -q "${ONE[@]}" --lr 1e-3 : "${ONE[@]}" --lr 1e30
took=$(($(date +%s) - start))
check_that "... within 20 s (${took}s)" '[ $took -le 20 ]'
check "... and no checkpoint" test ! -e nan/checkpoint.safetensors

# ---- weights that differ across ranks are caught at the save: rank 1 learns at another rate
MIS=(-np 1 "$NL" train "${LM[@]}" --out_dir mismatch --steps 3)
set_flag MIS --save_every 1
set_flag MIS --warmup 1  # below steps: no warning line beside the error
rc=0
"${MPIRUN[@]}" -q "${MIS[@]}" --lr 1e-3 : "${MIS[@]}" --lr 2e-3 >mis.out 2>mis.err || rc=$?
check_that "differing weights: exit 2 and one error line naming the step (rc $rc)" \
  '[ $rc -eq 2 ] && [ "$(grep -c "^normlab: " mis.err)" -eq 1 ] &&
   grep -q "^normlab: internal error: the weights at step 1 differ across the 2 ranks" mis.err'
check "... and no checkpoint was written" test ! -e mismatch/checkpoint.safetensors
finish

#!/usr/bin/env bash
# Crash consistency under SIGKILL (docs/reliability.md, "Kill test"): a small run with
# save_every 1 is killed at least KILLS times at random moments (during start-up, steps and
# saves) and resumed after each kill with only `--data D --out_dir R --resume`. Every resume must
# succeed, and the final run must equal an uninterrupted one bit for bit: the loss of every step,
# the checkpoint and the optimizer state. No temporary or staged file may be left at the end.
# Called by ctest as: bash test_kill.sh PATH_TO_normlab REPO_ROOT [KILLS] [SEED]
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
begin_cli_test "$@"
KILLS=${3:-50}
RANDOM=${4:-11}  # seeds bash's generator: the same kill plan on every run
require_corpus

prepare_corpus data

# Steps enough that KILLS kills (each one lets a run advance ~1-3 steps) end before the run does.
STEPS=$((KILLS * 5 + 20))
# One thread: on a loaded 2-core machine OpenMP's barriers would make each step slower.
TRAIN=("${TINY[@]}" --threads 1 --seed 5 --dropout 0.1 --warmup 10 --log_every 1 --eval_every 10
       --save_every 1 --steps $STEPS --data "$W/data" --out_dir run)

# ---- the uninterrupted run
mkdir ref
t0=$(date +%s%N)
if (cd ref && "$NL" train "${TRAIN[@]}") >ref/train.out 2>ref/train.err; then
  # A step (with its save) takes about this long here; kill delays are drawn in its units so
  # that each start advances a step or two on a fast machine as on a slow one.
  step_ms=$((($(date +%s%N) - t0) / 1000000 / STEPS + 1))
  ok "uninterrupted run of $STEPS steps exits 0 (~$step_ms ms a step)"
else
  not_ok "uninterrupted run of $STEPS steps exits 0" "$(tail -3 ref/train.err)"
  finish
  exit 1
fi

# ---- the killed run: kill, look at what the kill left, resume
mkdir killed
cd killed
kills=0 starts=0 resume_failures=0 mid_save=0 staged=0 rolled=0 tmp_left=0
rc=1
while [ $rc -ne 0 ]; do
  starts=$((starts + 1))
  if [ -f run/config.yaml ]; then
    cmd=(train --data "$W/data" --out_dir run --resume)  # the run's own config
  else
    cmd=(train "${TRAIN[@]}")  # killed before the run existed: start it
  fi
  if [ $kills -ge "$KILLS" ]; then
    rc=0
    "$NL" "${cmd[@]}" >>train.out 2>>train.err || rc=$?
    [ $rc -eq 0 ] || { resume_failures=$((resume_failures + 1)); break; }
    continue
  fi
  "$NL" "${cmd[@]}" >>train.out 2>>train.err &
  pid=$!
  # The moment: one kill in five at a random time after start (start-up, recovery, loading,
  # the first step); the others once the run has logged a step past the one it resumed from,
  # up to a step's time later (inside a step, its evaluation or its save).
  if [ $((RANDOM % 5)) -eq 0 ]; then
    delay_ms=$((RANDOM % (300 + 2 * step_ms)))
  else
    target=$(($(last_logged_step run) + 1 + RANDOM % 2))
    while kill -0 $pid 2>/dev/null && [ "$(last_logged_step run)" -lt $target ]; do sleep 0.01; done
    delay_ms=$((RANDOM % step_ms))
  fi
  sleep "$((delay_ms / 1000)).$(printf '%03d' $((delay_ms % 1000)))"
  if kill -9 $pid 2>/dev/null; then
    rc=0
    { wait $pid; } 2>/dev/null || rc=$?  # (without bash's "Killed" line)
    if [ $rc -eq 137 ]; then
      kills=$((kills + 1))
      # What the kill interrupted: a write in progress (temporary file), a staged state before
      # its commit point, or a commit between its marker and its renames.
      [ -z "$(leftover_tmp run)" ] || tmp_left=$((tmp_left + 1))
      compgen -G 'run/*.next' >/dev/null && staged=$((staged + 1))
      [ -e run/checkpoint.commit ] && rolled=$((rolled + 1))
      if [ -n "$(leftover_tmp run)" ] || compgen -G 'run/*.next' >/dev/null ||
        [ -e run/checkpoint.commit ]; then
        mid_save=$((mid_save + 1))
      fi
    fi
  else
    rc=0
    wait $pid || rc=$?
  fi
  # Any exit but a kill or success is a failed resume.
  if [ $rc -ne 0 ] && [ $rc -ne 137 ]; then
    resume_failures=$((resume_failures + 1))
    break
  fi
done
cd ..
echo "# $kills SIGKILLs over $starts starts; $mid_save left an unfinished write ($tmp_left a" \
  "temporary file, $staged a staged state, $rolled a commit marker to roll forward)"

check "at least $KILLS SIGKILLs were delivered" test $kills -ge "$KILLS"
if [ $resume_failures -eq 0 ]; then
  ok "every start after a kill resumed (exit 0 or killed)"
else
  not_ok "every start after a kill resumed (exit 0 or killed)" "$(grep -v '^normlab: precision' \
    killed/train.err | tail -3)"
fi
check "some kills came in the middle of a save" test $mid_save -gt 0
train_losses ref/run/metrics.jsonl >ref.losses
train_losses killed/run/metrics.jsonl >killed.losses
if [ "$(wc -l <ref.losses)" -eq $STEPS ] && cmp -s ref.losses killed.losses; then
  ok "the loss of each of the $STEPS steps equals the uninterrupted run's bit for bit"
else
  not_ok "the loss of each of the $STEPS steps equals the uninterrupted run's bit for bit" \
    "$(diff ref.losses killed.losses | head -6)"
fi
check "final checkpoint identical bytes" cmp ref/run/checkpoint.safetensors \
  killed/run/checkpoint.safetensors
check "final optimizer state identical bytes" cmp ref/run/checkpoint.optim.safetensors \
  killed/run/checkpoint.optim.safetensors
check "metrics.jsonl identical apart from tokens_per_s" \
  diff <(sed 's/"tokens_per_s":[^,}]*//' ref/run/metrics.jsonl) \
  <(sed 's/"tokens_per_s":[^,}]*//' killed/run/metrics.jsonl)
check "summary.json says ok" grep -q '"status": "ok"' killed/run/summary.json
check "no temporary, staged or commit files left" \
  test -z "$(unfinished_writes killed/run)"
finish

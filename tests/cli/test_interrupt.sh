#!/usr/bin/env bash
# Interrupts (docs/reliability.md, "Interrupts"): the first SIGINT or SIGTERM finishes the step in
# progress, saves it, writes summary.json "interrupted at step S" and exits 130 / 143; a second
# signal exits at once. After each, `--resume` continues exactly: the final losses, checkpoint and
# optimizer state equal an uninterrupted run's bit for bit.
# Called by ctest as: bash test_interrupt.sh PATH_TO_normlab REPO_ROOT
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
begin_cli_test "$@"
require_corpus

prepare_corpus data
# save_every beyond the run: the only saves before the end are the interrupts' own. Enough steps
# that a loaded machine, polling metrics.jsonl slowly, still signals the run before its end.
STEPS=300
TRAIN=("${TINY[@]}" --threads 1 --seed 4 --dropout 0.1 --warmup 10 --log_every 1 --eval_every 100
       --save_every 1000 --steps $STEPS --data "$W/data" --out_dir run)

mkdir ref
(cd ref && "$NL" train "${TRAIN[@]}") >/dev/null 2>ref/train.err ||
  { not_ok "fixture: uninterrupted run" "$(tail -3 ref/train.err)"; finish; exit 1; }

mkdir int
cd int
# interrupt NAME EXPECTED_RC SIGNALS...: starts (or resumes) the run, waits until it has logged a
# step past where it started, sends the signals (0.05 s apart) and checks what it left.
interrupt() {
  local name=$1 want=$2
  shift 2
  local cmd=(train "${TRAIN[@]}") from rc=0
  [ -f run/config.yaml ] && cmd=(train --data "$W/data" --out_dir run --resume)
  from=$(last_logged_step run)
  "$NL" "${cmd[@]}" >"$name.out" 2>"$name.err" &
  local pid=$!
  while kill -0 $pid 2>/dev/null && [ "$(last_logged_step run)" -lt $((from + 3)) ]; do sleep 0.01; done
  local sig
  for sig in "$@"; do
    kill -s "$sig" $pid 2>/dev/null || true
    sleep 0.05
  done
  wait $pid || rc=$?
  if [ $rc -eq "$want" ]; then
    ok "$name: exit code $want"
  else
    not_ok "$name: exit code $want" "got $rc" "$(cat "$name.err")"
  fi
}

interrupt sigint 130 INT
step=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["steps"])' run/summary.json)
check "sigint: summary.json says 'interrupted at step $step'" \
  grep -q "\"status\": \"interrupted at step $step\"" run/summary.json
check "sigint: the checkpoint holds step $step" test "$(checkpoint_step run/checkpoint.safetensors)" = "$step"
check "sigint: the step in progress was finished (last logged step is $step)" \
  test "$(train_losses run/metrics.jsonl | tail -1 | cut -d' ' -f1)" = "$step"
check "sigint: stderr says interrupted, the step and --resume's file" \
  grep -q "^train: interrupted at step $step by SIGINT; the state of step $step is saved" sigint.err
check "sigint: no temporary or staged files" \
  test -z "$(unfinished_writes run)"

interrupt sigterm 143 TERM
check "sigterm: summary.json says interrupted" grep -q '"status": "interrupted at step' run/summary.json
check "sigterm: the checkpoint is the summary's step" test "$(checkpoint_step \
  run/checkpoint.safetensors)" = "$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["steps"])' run/summary.json)"

# A second signal exits at once (with the second signal's status), saved or not.
interrupt twice 130 INT INT

rc=0
"$NL" train --data "$W/data" --out_dir run --resume >resume.out 2>resume.err || rc=$?
cd ..
check "resume after the interrupts exits 0" test $rc -eq 0
check "the resumed run's summary says ok" grep -q '"status": "ok"' int/run/summary.json
train_losses ref/run/metrics.jsonl >ref.losses
train_losses int/run/metrics.jsonl >int.losses
if [ "$(wc -l <ref.losses)" -eq $STEPS ] && cmp -s ref.losses int.losses; then
  ok "the loss of each of the $STEPS steps equals the uninterrupted run's bit for bit"
else
  not_ok "the loss of each of the $STEPS steps equals the uninterrupted run's bit for bit" \
    "$(diff ref.losses int.losses | head -6)"
fi
check "final checkpoint identical bytes" cmp ref/run/checkpoint.safetensors int/run/checkpoint.safetensors
check "final optimizer state identical bytes" \
  cmp ref/run/checkpoint.optim.safetensors int/run/checkpoint.optim.safetensors
check "no temporary, staged or commit files left" \
  test -z "$(unfinished_writes int/run)"
finish

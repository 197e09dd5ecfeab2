#!/usr/bin/env bash
# A run's directory (docs/reliability.md, "Runs and resume"): an existing run is never replaced
# without --overwrite; --resume takes the run's own config and refuses changes a continuation
# cannot make; nothing is written before every input is checked; one writer per run.
# Called by ctest as: bash test_run_directory.sh PATH_TO_normlab REPO_ROOT
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
begin_cli_test "$@"
require_corpus

prepare_corpus data
TRAIN=("${TINY[@]}" --threads 1 --log_every 1000 --eval_every 0 --data data)
# A flag is given once, so the cases on another corpus replace --data (lib.sh).
CUT=("${TRAIN[@]}")
set_flag CUT --data data_cut
steps_of() {  # the "steps" of a run's summary.json
  "$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["steps"])' "$1/summary.json"
}

# ---- no silent overwrite
"$NL" train "${TRAIN[@]}" --out_dir run --steps 4 >/dev/null 2>&1
cp -r run run.orig
expect_error "train into an existing run without --resume" "--overwrite" "run" -- \
  "$NL" train "${TRAIN[@]}" --out_dir run --steps 2
check "the refusal also names --resume" grep -q -- "--resume" "$W/err.txt"
check "the refused run is untouched" diff -r run.orig run
echo "my notes" >run/notes.txt
check "--overwrite replaces the run" "$NL" train "${TRAIN[@]}" --out_dir run --steps 2 --overwrite
check "the replaced run has the new run's 2 steps" test "$(steps_of run)" = 2
check "--overwrite leaves files that are not the run's" grep -q "my notes" run/notes.txt
mkdir -p other && echo keep >other/thesis.tex
expect_error "--overwrite of a directory that is not a run" "not a normlab run" "other" -- \
  "$NL" train "${TRAIN[@]}" --out_dir other --steps 2 --overwrite
check "that directory is untouched" test "$(ls other)" = thesis.tex
mkdir empty
check "a new run in an existing empty directory" "$NL" train "${TRAIN[@]}" --out_dir empty --steps 1

# ---- validate before writing: a bad corpus leaves a new out_dir uncreated, an old run as it was
cp -r data data_cut
head -c 100 data/train.bin >data_cut/train.bin
expect_error "new run on a truncated token file" data_cut/train.bin "." -- \
  "$NL" train "${CUT[@]}" --out_dir r_cut --steps 2
check "... creates no run directory" test ! -e r_cut
rm -rf run && cp -r run.orig run
expect_error "--overwrite with a truncated token file" data_cut/train.bin "run" -- \
  "$NL" train "${CUT[@]}" --out_dir run --steps 2 --overwrite
check "... leaves the old run as it was" diff -r run.orig run

# ---- memory: measured before anything is allocated or written
HUGE=("${TRAIN[@]}")
set_flag HUGE --d_model 65536
set_flag HUGE --d_ff 1048576
set_flag HUGE --n_layers 100
expect_error "a model larger than any machine's memory" "GiB available" "." -- \
  "$NL" train "${HUGE[@]}" --out_dir r_huge --steps 2
check "... creates no run directory" test ! -e r_huge
# A checkpoint whose config describes such a model (and holds no tensors).
"$PY" - <<'PYEOF'
import json, struct
config = {"d_model": 65536, "d_ff": 1048576, "n_layers": 100, "n_heads": 4, "vocab_size": 400}
meta = {"format": "pt", "normlab.config": json.dumps(config), "normlab.step": "1"}
header = json.dumps({"__metadata__": meta}).encode()
header += b" " * (-len(header) % 8)
open("huge.safetensors", "wb").write(struct.pack("<Q", len(header)) + header)
PYEOF
expect_error "generate from a checkpoint whose model cannot fit" "huge.safetensors: needs" "." -- \
  "$NL" generate --model huge.safetensors --tokenizer data/tokenizer.model --prompt Hi

# ---- --resume takes the run's config (the README's example, as written)
"$NL" train --data data --out_dir b2t --placement b2t --n_layers 3 --dt 1 --steps 3 \
  --d_model 32 --n_heads 2 --d_ff 64 --seq_len 32 --batch_size 4 --eval_batches 2 \
  --threads 1 --progress false >/dev/null 2>&1
check "README: train --data D --out_dir R --steps N --resume" \
  "$NL" train --data data --out_dir b2t --steps 5 --resume
check "the resumed run kept the run's model (placement b2t, 3 layers) and took steps 5" \
  bash -c 'grep -qx "placement: b2t" b2t/config.yaml && grep -qx "n_layers: 3" b2t/config.yaml &&
           grep -qx "steps: 5" b2t/config.yaml'
check "... and trained to step 5" test "$(steps_of b2t)" = 5
cp -r b2t b2t.orig
expect_error "resume with another seed" "option 'seed'" "b2t" -- \
  "$NL" train --data data --out_dir b2t --steps 8 --resume --seed 9
expect_error "resume with another batch_size" "option 'batch_size'" "b2t" -- \
  "$NL" train --data data --out_dir b2t --steps 8 --resume --batch_size 8
expect_error "resume with another d_model from a config file" "option 'd_model'" "b2t" -- \
  bash -c 'printf "d_model: 48\n" >wide.yaml && "$0" train --data data --out_dir b2t --resume \
           --config wide.yaml' "$NL"
check "refused resumes leave the run untouched" diff -r b2t.orig b2t
check "resume may change lr, warmup, threads and cadence" "$NL" train --data data --out_dir b2t \
  --steps 6 --resume --lr 3e-4 --warmup 2 --threads 2 --save_every 2 --log_every 3
check "--dump-config with --resume shows the run's config" \
  bash -c '"$0" train --data data --out_dir b2t --resume --dump-config | grep -qx "placement: b2t"' \
  "$NL"

# ---- precision auto follows the CPU, so it must not change a run's precision on resume
# The run records what auto meant where it trained; pretend it trained in the other precision.
trained=$(checkpoint_metadata b2t/checkpoint.safetensors normlab.matmul_precision)
check "the checkpoint records the run's matmul precision ($trained)" \
  test "$trained" = fp32 -o "$trained" = bf16
other=bf16
[ "$trained" = bf16 ] && other=fp32
set_metadata b2t/checkpoint.safetensors normlab.matmul_precision "$other"
cp -r b2t b2t.orig2
expect_error "resume where precision auto means another precision" \
  "checkpoint.safetensors: this run trained with $other matmuls and 'precision auto' means $trained on this CPU" \
  "b2t" -- "$NL" train --data data --out_dir b2t --steps 7 --resume
check "... names the flag that continues it as it trained" grep -q -- "--precision $other" "$W/err.txt"
check "... and leaves the run untouched" diff -r b2t.orig2 b2t
check "an explicit --precision continues it" \
  "$NL" train --data data --out_dir b2t --steps 7 --resume --precision "$other"
check "... and its new checkpoint records that precision" \
  test "$(checkpoint_metadata b2t/checkpoint.safetensors normlab.matmul_precision)" = "$other"

# ---- keep_last: the newest N states stay as step-numbered pairs
"$NL" train "${TRAIN[@]}" --out_dir kept --steps 7 --save_every 1 --keep_last 3 >/dev/null 2>&1
check "keep_last 3 keeps steps 5, 6, 7 under checkpoints/" test "$(cd kept/checkpoints && echo *)" = \
  "step-00000005.optim.safetensors step-00000005.safetensors step-00000006.optim.safetensors \
step-00000006.safetensors step-00000007.optim.safetensors step-00000007.safetensors"
check "the newest kept state is the latest checkpoint" \
  cmp kept/checkpoints/step-00000007.safetensors kept/checkpoint.safetensors
check "an older kept state is a checkpoint generate loads" "$NL" generate --model \
  kept/checkpoints/step-00000005.safetensors --tokenizer data/tokenizer.model --prompt Hi \
  --max_tokens 2 --seed 1

# ---- one writer per run
"$NL" train "${TRAIN[@]}" --out_dir busy --steps 100000 --save_every 1000000 >/dev/null 2>&1 &
pid=$!
while [ ! -f busy/config.yaml ] && kill -0 $pid 2>/dev/null; do sleep 0.02; done
expect_error "resume while another process trains the run" "another normlab process" "busy" -- \
  "$NL" train --data data --out_dir busy --resume
kill -TERM $pid
rc=0
wait $pid || rc=$?
check "the SIGTERMed run exits 143" test $rc -eq 143

check "no temporary files anywhere" test -z "$(leftover_tmp . run b2t busy)"
finish

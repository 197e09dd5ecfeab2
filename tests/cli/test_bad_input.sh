#!/usr/bin/env bash
# Bad input through the CLI: every case must exit 1 (not crash), print exactly one stderr line
# "normlab: error: ..." naming the offending file or option, and leave no temporary files.
# Called by ctest as: bash test_bad_input.sh PATH_TO_normlab REPO_ROOT
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
begin_cli_test "$@"
require_corpus


# ---- fixtures: corpora and a short run
prep() {  # prep OUT_DIR ARGS...
  local out=$1
  shift
  "$NL" prepare --input "$CORPUS_FILES" --out_dir "$out" "$@" 2>"$W/prep.err" ||
    { not_ok "fixture: prepare $out" "$(cat "$W/prep.err")"; finish; exit 1; }
}
prep data --vocab_size $VOCAB
prep data_v420 --vocab_size 420
prep data_uni --vocab_size $VOCAB --tokenizer_type unigram
# A flag is given once, so cases on another corpus use TRAIN_BASE and their own --data.
TRAIN_BASE=("${TINY[@]}" --threads 2 --log_every 1000 --eval_every 0)
TRAIN=("${TRAIN_BASE[@]}" --data data)
"$NL" train "${TRAIN[@]}" --out_dir run --steps 3 --save_every 1 2>"$W/train.err" ||
  { not_ok "fixture: train run" "$(cat "$W/train.err")"; finish; exit 1; }
CKPT=run/checkpoint.safetensors
cp -r run run.orig
GEN=(generate --tokenizer data/tokenizer.model --prompt Hi --max_tokens 3)

# ---- configuration
printf 'd_model: [32\nn_layers: 2\n' >syntax.yaml
printf 'd_modle: 32\n' >unknown.yaml
printf 'd_model: wide\n' >type.yaml
printf 'd_model: 32\nd_model: 48\n' >twice.yaml
printf 'placement: foo\n' >placement.yaml
printf -- '- d_model\n- 32\n' >list.yaml
# --dump-config prints a config file that builds, so a config that does not fails as training
# it would (the old dump printed it without the resolved layer lines and exited 0).
expect_error "--dump-config of a per-layer list past the depth" "goes beyond the 4 layers" "." -- \
  "$NL" train --n_layers 4 --block '0-9: post' --dump-config
expect_error "--dump-config of an alpha out of CompleteP's range" "completep_alpha" "." -- \
  "$NL" train --completep_alpha 7 --dump-config
expect_error "YAML syntax error" syntax.yaml "." -- \
  "$NL" train "${TRAIN[@]}" --out_dir c1 --config syntax.yaml
expect_error "unknown key in a config file" unknown.yaml "." -- \
  "$NL" train "${TRAIN[@]}" --out_dir c1 --config unknown.yaml
expect_error "wrong type in a config file" type.yaml "." -- \
  "$NL" train "${TRAIN[@]}" --out_dir c1 --config type.yaml
expect_error "key set twice in a config file" twice.yaml "." -- \
  "$NL" train "${TRAIN[@]}" --out_dir c1 --config twice.yaml
expect_error "config file that is not a mapping" list.yaml "." -- \
  "$NL" train "${TRAIN[@]}" --out_dir c1 --config list.yaml
expect_error "missing config file" nonexistent.yaml "." -- \
  "$NL" train "${TRAIN[@]}" --out_dir c1 --config nonexistent.yaml
expect_error "unknown placement (--placement foo)" "placement" "." -- \
  "$NL" train "${TRAIN[@]}" --out_dir c1 --placement foo
expect_error "unknown placement in a config file" placement.yaml "." -- \
  "$NL" train "${TRAIN[@]}" --out_dir c1 --config placement.yaml
expect_error "wrong type on the command line (--steps many)" "steps" "." -- \
  "$NL" train "${TRAIN[@]}" --out_dir c1 --steps many
expect_error "n_heads that does not divide d_model" "n_heads" "." -- \
  "$NL" train "${TRAIN[@]}" --out_dir c1 --n_heads 3
expect_error "completep_alpha outside the paper's [0.5, 1]" "completep_alpha" "." -- \
  "$NL" train "${TRAIN[@]}" --out_dir c1 --placement completep --completep_alpha 0.3
expect_error "unknown placement in init" "placement" "." -- \
  "$NL" init --out c1.safetensors --placement foo
# Values outside the option's range (docs/options.md), on the command line and in a file.
printf 'beta2: 1\n' >range.yaml
for bad in "lr -1" "warmup -1" "lower_fraction 1.5" "clip_norm -1" "beta2 1" "seq_len 1000000000"; do
  set -- $bad
  expect_error "out of range: --$1 $2" "--$1: must be" "." -- \
    "$NL" train --data data --out_dir c1 --$1 $2
done
expect_error "out of range in a config file" "range.yaml: beta2: must be in [0, 1), got 1" "." -- \
  "$NL" train "${TRAIN[@]}" --out_dir c1 --config range.yaml
check "failed config checks create no run directory" test ! -e c1 -a ! -e c1.safetensors

# ---- corrupt and truncated checkpoints
"$PY" -c 'import random,sys; random.seed(7); sys.stdout.buffer.write(bytes(random.randrange(256) for _ in range(4096)))' >random.safetensors
SIZE=$(stat -c %s $CKPT)
head -c 5000 $CKPT >trunc_header.safetensors
head -c $((SIZE - 100)) $CKPT >trunc_data.safetensors
head -c 4 $CKPT >trunc_tiny.safetensors
: >empty.safetensors
# A valid header length followed by bytes that are not JSON.
"$PY" -c 'import struct,sys; sys.stdout.buffer.write(struct.pack("<Q", 16) + b"{not json at all" + bytes(8))' >badjson.safetensors
for f in random trunc_header trunc_data trunc_tiny empty badjson; do
  expect_error "generate on a corrupt checkpoint ($f)" $f.safetensors "." -- \
    "$NL" "${GEN[@]}" --model $f.safetensors
done
expect_error "grad on a truncated checkpoint" trunc_data.safetensors "." -- \
  "$NL" grad --model trunc_data.safetensors --tokens /dev/null --out g.safetensors
check "grad writes no output on error" test ! -e g.safetensors
cp -r run.orig run_corrupt
cp random.safetensors run_corrupt/checkpoint.safetensors
expect_error "train --resume from a corrupt checkpoint" run_corrupt/checkpoint.safetensors \
  "run_corrupt" -- "$NL" train "${TRAIN[@]}" --out_dir run_corrupt --steps 6 --resume
cp -r run.orig run_trunc
cp trunc_data.safetensors run_trunc/checkpoint.safetensors
expect_error "train --resume from a truncated checkpoint" run_trunc/checkpoint.safetensors \
  "run_trunc" -- "$NL" train "${TRAIN[@]}" --out_dir run_trunc --steps 6 --resume
cp -r run.orig run_optim
head -c 3000 run.orig/checkpoint.optim.safetensors >run_optim/checkpoint.optim.safetensors
expect_error "train --resume with truncated optimizer state" checkpoint.optim.safetensors \
  "run_optim" -- "$NL" train "${TRAIN[@]}" --out_dir run_optim --steps 6 --resume
expect_error "train --resume with no checkpoint" fresh/checkpoint.safetensors "." -- \
  "$NL" train "${TRAIN[@]}" --out_dir fresh --steps 6 --resume

# ---- resume against a different config or vocabulary
OTHER_DEPTH=("${TRAIN[@]}")
set_flag OTHER_DEPTH --n_layers 3
expect_error "resume with a different n_layers" "n_layers" "run" -- \
  "$NL" train "${OTHER_DEPTH[@]}" --out_dir run --steps 6 --resume
expect_error "resume with a different placement" "placement" "run" -- \
  "$NL" train "${TRAIN[@]}" --out_dir run --steps 6 --resume --placement post
expect_error "resume against a corpus with another vocab size" "$CKPT" "run" -- \
  "$NL" train "${TRAIN_BASE[@]}" --out_dir run --steps 6 --resume --data data_v420
expect_error "resume against a corpus with another tokenizer (same size)" "$CKPT" "run" -- \
  "$NL" train "${TRAIN_BASE[@]}" --out_dir run --steps 6 --resume --data data_uni
check "failed resumes leave the run directory untouched" diff -r run.orig run

# ---- corpora
: >empty.txt
printf '  \n\t\n   \n\n' >blank.txt
printf '\xff\xfe' >binary.txt
printf 'fine text\n%%\nmore text \xc3\x28 here\n' >badseq.txt
expect_error "empty corpus" empty.txt "." -- \
  "$NL" prepare --input empty.txt --vocab_size $VOCAB --out_dir p_empty
expect_error "whitespace-only corpus" blank.txt "." -- \
  "$NL" prepare --input blank.txt --vocab_size $VOCAB --out_dir p_blank
expect_error "non-UTF-8 corpus (ff fe)" binary.txt "." -- \
  "$NL" prepare --input binary.txt --vocab_size $VOCAB --out_dir p_bin
expect_error "invalid UTF-8 sequence inside a corpus" badseq.txt "." -- \
  "$NL" prepare --input badseq.txt --vocab_size $VOCAB --out_dir p_seq
expect_error "missing input file" missing.txt "." -- \
  "$NL" prepare --input "$FORTUNES/pets.u8,missing.txt" --vocab_size $VOCAB --out_dir p_missing
expect_error "vocab_size below the byte-fallback minimum" "vocab_size" "." -- \
  "$NL" prepare --input "$CORPUS_FILES" --vocab_size 200 --out_dir p_tiny
PROGRESS_OK=1 expect_error "vocab_size too small for the corpus" "vocab_size" "." -- \
  "$NL" prepare --input "$CORPUS_FILES" --vocab_size 300 --out_dir p_small
check "failed prepares leave no corpus files" \
  test -z "$(find . -path './p_*' -type f)"
expect_error "train with a missing corpus directory" nodata "." -- \
  "$NL" train "${TRAIN_BASE[@]}" --out_dir r_nodata --data nodata --steps 2
cp -r data data_cut
head -c 100 data/train.bin >data_cut/train.bin
expect_error "train on a truncated token file" data_cut/train.bin "." -- \
  "$NL" train "${TRAIN_BASE[@]}" --out_dir r_cut --data data_cut --steps 2
cp -r data data_mixed
cp data_uni/train.bin data_mixed/train.bin
expect_error "token file made by another tokenizer" data_mixed/train.bin "." -- \
  "$NL" train "${TRAIN_BASE[@]}" --out_dir r_mixed --data data_mixed --steps 2
touch not_a_dir
expect_error "out_dir that is a regular file" not_a_dir "." -- \
  "$NL" train "${TRAIN[@]}" --out_dir not_a_dir --steps 2

# ---- grad and generate
printf '1 2 3 4 5\n6 7 8 9 10\n' >tok_ok.txt
printf '1 2 3 4 5\n6 7 %d 9 10\n' $VOCAB >tok_big.txt
printf '1 2 3 4 5\n6 7 -1 9 10\n' >tok_neg.txt
printf '1 2 3 4 5\n6 7 8\n' >tok_ragged.txt
check "grad on good token rows exits 0" "$NL" grad --model $CKPT --tokens tok_ok.txt --out g_ok.safetensors
expect_error "grad with a token id >= vocab" tok_big.txt "." -- \
  "$NL" grad --model $CKPT --tokens tok_big.txt --out g_big.safetensors
expect_error "grad with a negative token id" tok_neg.txt "." -- \
  "$NL" grad --model $CKPT --tokens tok_neg.txt --out g_neg.safetensors
expect_error "grad with rows of different lengths" tok_ragged.txt "." -- \
  "$NL" grad --model $CKPT --tokens tok_ragged.txt --out g_rag.safetensors
expect_error "grad with a missing token file" tok_none.txt "." -- \
  "$NL" grad --model $CKPT --tokens tok_none.txt --out g_none.safetensors
check "failed grads write no output" test ! -e g_big.safetensors -a ! -e g_neg.safetensors
expect_error "generate with a tokenizer of another vocab size" data_v420/tokenizer.model "." -- \
  "$NL" generate --model $CKPT --tokenizer data_v420/tokenizer.model --prompt Hi --max_tokens 3
expect_error "generate with another tokenizer of the same size" data_uni/tokenizer.model "." -- \
  "$NL" generate --model $CKPT --tokenizer data_uni/tokenizer.model --prompt Hi --max_tokens 3
expect_error "generate with a tokenizer that is not a SentencePiece model" random.safetensors "." -- \
  "$NL" generate --model $CKPT --tokenizer random.safetensors --prompt Hi --max_tokens 3
expect_error "generate with no tokenizer beside the checkpoint" lonely/tokenizer.model "." -- \
  bash -c 'mkdir -p lonely && cp "$1" lonely/ && "$2" generate --model lonely/checkpoint.safetensors --prompt Hi' \
  _ $CKPT "$NL"
expect_error "generate with a negative temperature" temperature "." -- \
  "$NL" "${GEN[@]}" --model $CKPT --temperature -1
expect_error "generate with top_p above 1" top_p "." -- \
  "$NL" "${GEN[@]}" --model $CKPT --top_p 1.5

# ---- divergence: a huge learning rate on a model without normalization overflows the weights
# after one update, so the loss of step 2 is not finite.
DIVERGE=(--placement none --lr 1e30 --clip_norm 0 --warmup 0)
expect_error "diverging run" "diverged at step" "div" -- \
  "$NL" train "${TRAIN[@]}" "${DIVERGE[@]}" --out_dir div --steps 20 --save_every 1
check "diverged run: the last checkpoint loads and generates" \
  "$NL" generate --model div/checkpoint.safetensors --prompt Hi --max_tokens 5 --seed 1
# The realistic case: a healthy run, resumed with an lr that blows up; the healthy checkpoint must
# survive byte for byte.
"$NL" train "${TRAIN[@]}" --placement none --out_dir div2 --steps 3 2>/dev/null
cp div2/checkpoint.safetensors div2.ckpt
expect_error "run diverging after --resume" "diverged at step" "div2" -- \
  "$NL" train "${TRAIN[@]}" "${DIVERGE[@]}" --out_dir div2 --steps 20 --save_every 100 --resume
check "diverged resume: the checkpoint before divergence is unchanged" \
  cmp div2.ckpt div2/checkpoint.safetensors
check "diverged resume: that checkpoint still generates" \
  "$NL" generate --model div2/checkpoint.safetensors --prompt Hi --max_tokens 5 --seed 1
check "diverged runs: metrics.jsonl is still valid JSON lines" "$PY" -c \
  'import json,sys; [json.loads(l) for f in sys.argv[1:] for l in open(f)]' \
  div/metrics.jsonl div2/metrics.jsonl

check "no temporary files anywhere" test -z "$(leftover_tmp .)"
finish

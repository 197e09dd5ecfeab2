#!/usr/bin/env bash
# Hostile input through the CLI, one case per class of issue 11 ("bad values accepted with exit
# 0", "unhelpful errors", "partial files"): every case must exit 1 with exactly one stderr line
# "normlab: error: WHERE: ..." (docs/reliability.md, "Errors and exit codes") and leave no file
# behind: no run directory, no output, no temporary file.
# Called by ctest as: bash test_hostile_input.sh PATH_TO_normlab REPO_ROOT
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
begin_cli_test "$@"
require_corpus

# ---- fixtures: a corpus, a short run, an encoder-decoder to translate with
"$NL" prepare --input "$CORPUS_FILES" --out_dir data --vocab_size $VOCAB 2>"$W/prep.err" ||
  { not_ok "fixture: prepare" "$(cat "$W/prep.err")"; finish; exit 1; }
# Without --data: a flag is given once, so each case adds its own.
TRAIN=("${TINY[@]}" --threads 2 --log_every 1000 --eval_every 0)
"$NL" train "${TRAIN[@]}" --data data --out_dir run --steps 2 2>"$W/train.err" >/dev/null ||
  { not_ok "fixture: train" "$(cat "$W/train.err")"; finish; exit 1; }
CKPT=run/checkpoint.safetensors
"$NL" init --arch encdec --vocab_size $VOCAB --d_model 32 --n_layers 1 --encoder_layers 1 \
  --n_heads 2 --d_ff 64 --seq_len 32 --out encdec.safetensors 2>"$W/init.err" ||
  { not_ok "fixture: init encdec" "$(cat "$W/init.err")"; finish; exit 1; }
GEN=(generate --max_tokens 3)
TRANSLATE=(translate --model encdec.safetensors --tokenizer data/tokenizer.model --max_len_b 2)

# Everything in the working directory, to show that a failing command added nothing.
snapshot() { find . -path ./.check.out -prune -o -path ./err.out -prune -o -path ./err.all \
  -prune -o -path ./err.txt -prune -o -print | sort; }

# hostile DESC NEEDLE -- CMD...: expect_error, and the directory holds the same files after.
hostile() {
  local desc=$1 needle=$2
  shift 3
  local before after
  before=$(snapshot)
  expect_error "$desc" "$needle" "." -- "$@"
  after=$(snapshot)
  if [ "$before" != "$after" ]; then
    not_ok "$desc: leaves no file" "$(diff <(echo "$before") <(echo "$after") | head -20)"
  fi
}

# ---- the command line: unknown, misspelt, repeated and stray arguments
hostile "misspelt command" "trian: unknown command (did you mean 'train'?)" -- "$NL" trian
hostile "unknown command" "xyzzy: unknown command; one of prepare" -- "$NL" xyzzy
hostile "no command" "no command given" -- "$NL"
hostile "an option before the command" "--lr: the command comes first" -- "$NL" --lr 1 train
hostile "misspelt flag" "--n_layer: unknown option (did you mean '--n_layers'?)" -- \
  "$NL" train "${TRAIN[@]}" --data data --out_dir c1 --n_layer 4
hostile "misspelt flag, --key=value form" "--d_modle: unknown option (did you mean '--d_model'?)" \
  -- "$NL" train "${TRAIN[@]}" --data data --out_dir c1 --d_modle=64
hostile "a flag of another command" "--beam: not an option of 'train' (an option of translate)" \
  -- "$NL" train "${TRAIN[@]}" --data data --out_dir c1 --beam 4
hostile "unknown flag, nothing close" "--zzzzzzzzzz: unknown option of 'train'" -- \
  "$NL" train "${TRAIN[@]}" --data data --out_dir c1 --zzzzzzzzzz 1
hostile "stray argument" "'7': unexpected argument of 'train'" -- \
  "$NL" train "${TRAIN[@]}" --data data --out_dir c1 --steps 2 7
hostile "the same flag twice" "--lr: given 2 times; give it once" -- \
  "$NL" train "${TRAIN[@]}" --data data --out_dir c1 --lr 1e-3 --lr 2e-3
hostile "the same flag twice, two spellings" "--out_dir: given 2 times" -- \
  "$NL" train "${TRAIN[@]}" --data data --out_dir c1 --out-dir c1
hostile "a command's own flag twice" "--model: given 2 times" -- \
  "$NL" "${GEN[@]}" --model $CKPT --model $CKPT
hostile "a required flag missing" "--model: required" -- "$NL" generate --prompt Hi
hostile "a flag without its value" "--lr: needs a value" -- \
  "$NL" train "${TRAIN[@]}" --data data --lr
hostile "a typed flag of a command with a bad value" "--seed: invalid value 'abc'" -- \
  "$NL" prepare-parallel --out_dir c1 --seed abc

# ---- values outside their range (docs/options.md)
hostile "negative lr" "--lr: must be > 0, got -1" -- \
  "$NL" train "${TRAIN[@]}" --data data --out_dir c1 --lr -1
hostile "negative warmup" "--warmup: must be >= 0, got -5" -- \
  "$NL" train "${TRAIN[@]}" --data data --out_dir c1 --warmup -5
hostile "lower_fraction above 1" "--lower_fraction: must be in [0, 1], got 1.01" -- \
  "$NL" train "${TRAIN[@]}" --data data --out_dir c1 --lower_fraction 1.01
hostile "negative clip_norm" "--clip_norm: must be >= 0, got -1" -- \
  "$NL" train "${TRAIN[@]}" --data data --out_dir c1 --clip_norm -1
hostile "beta2 of 1" "--beta2: must be in [0, 1), got 1" -- \
  "$NL" train "${TRAIN[@]}" --data data --out_dir c1 --beta2 1
hostile "seq_len of 1e9" "--seq_len: must be in [1, 65536], got 1000000000" -- \
  "$NL" train --data data --out_dir c1 --seq_len 1000000000
printf 'warmup: -1\n' >range.yaml
hostile "out of range in a config file" "range.yaml: warmup: must be >= 0, got -1" -- \
  "$NL" train "${TRAIN[@]}" --data data --out_dir c1 --config range.yaml

# ---- config files
mkdir -p confdir
hostile "--config naming a directory" "confdir: is a directory, not a config file" -- \
  "$NL" train "${TRAIN[@]}" --data data --out_dir c1 --config confdir
printf '{"out_dir": "c1\\u0000x"}' >nul.json
hostile "a NUL byte in a string value" "nul.json: out_dir: contains a NUL byte" -- \
  "$NL" train "${TRAIN[@]}" --config nul.json
printf 'steps: "1\\n2"\n' >newline.yaml
hostile "a value with a newline, quoted in the message on one line" \
  "newline.yaml: option 'steps' expects an integer, got '1\\x0a2'" -- \
  "$NL" train "${TRAIN[@]}" --data data --out_dir c1 --config newline.yaml
# What --dump-config prints reads back as the same config, control bytes and quotes included (in
# free-text options: a block description must build, since the dump is checked like a model).
printf '{"out_dir": "run\\u0001 \\"q\\" \\\\ #", "input": "a\\tb"}' >odd.json
check "--dump-config round trip of odd strings" bash -c \
  '"$1" train --config odd.json --dump-config >odd.yaml &&
   "$1" train --config odd.yaml --dump-config | cmp - odd.yaml' _ "$NL"
rm -f odd.yaml

# ---- data
mkdir -p nometa
cp data/train.bin data/valid.bin data/tokenizer.model nometa/
hostile "--data without meta.json" "nometa: not a finished corpus: no meta.json" -- \
  "$NL" train "${TRAIN[@]}" --out_dir c1 --data nometa
hostile "--data naming a file" "data/meta.json: not a directory" -- \
  "$NL" train "${TRAIN[@]}" --out_dir c1 --data data/meta.json
cp -r data data_hdr
# The header's vocabulary size (u32 at byte 12, docs/token-file.md) above the tokenizer's: every
# id is still below it, so only the comparison with the tokenizer can tell.
"$PY" -c 'import struct,sys; p=sys.argv[1]; b=bytearray(open(p,"rb").read());
b[12:16]=struct.pack("<I", 500); open(p,"wb").write(b)' data_hdr/train.bin
hostile "token file header vocabulary differs from the tokenizer's" \
  "data_hdr/train.bin: vocabulary mismatch: the header says 500 ids" -- \
  "$NL" train "${TRAIN[@]}" --out_dir c1 --data data_hdr

# ---- checkpoints with non-finite weights: NaN in one tensor, +Inf in another
poison() {  # poison IN OUT TENSOR_INDEX VALUE
  "$PY" - "$@" <<'EOF'
import json, struct, sys
src, dst, index, value = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
b = bytearray(open(src, "rb").read())
n = struct.unpack("<Q", b[:8])[0]
header = json.loads(b[8:8 + n])
name = sorted(k for k in header if k != "__metadata__")[index]
begin = 8 + n + header[name]["data_offsets"][0]
b[begin + 4 * 2:begin + 4 * 3] = struct.pack("<f", value)
open(dst, "wb").write(b)
print(name)
EOF
}
T_NAN=$(poison $CKPT nan.safetensors 0 nan)
T_INF=$(poison $CKPT inf.safetensors 1 inf)
hostile "checkpoint with a NaN weight" "nan.safetensors: tensor '$T_NAN' holds NaN or Inf" -- \
  "$NL" "${GEN[@]}" --model nan.safetensors --tokenizer data/tokenizer.model --prompt Hi
hostile "checkpoint with an Inf weight" "inf.safetensors: tensor '$T_INF' holds NaN or Inf" -- \
  "$NL" "${GEN[@]}" --model inf.safetensors --tokenizer data/tokenizer.model --prompt Hi
cp -r run run_nan
cp nan.safetensors run_nan/checkpoint.safetensors
before=$(cd run_nan && find . -type f -exec md5sum {} + | sort)
hostile "resume from a checkpoint with a NaN weight" "holds NaN or Inf" -- \
  "$NL" train "${TRAIN[@]}" --data data --out_dir run_nan --steps 4 --resume
check "failed resume leaves the run untouched" \
  test "$before" = "$(cd run_nan && find . -type f -exec md5sum {} + | sort)"

# A tensor stored as I32 (same size as F32): a valid safetensors file, but not model weights.
"$PY" - $CKPT int.safetensors <<'EOF'
import json, struct, sys
b = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", b[:8])[0]
header = json.loads(b[8:8 + n])
header[sorted(k for k in header if k != "__metadata__")[0]]["dtype"] = "I32"
text = json.dumps(header, separators=(",", ":")).encode()
text += b" " * (n - len(text))
assert len(text) == n
open(sys.argv[2], "wb").write(b[:8] + text + b[8 + n:])
EOF
hostile "checkpoint with an integer weight tensor" "int.safetensors: tensor '" -- \
  "$NL" "${GEN[@]}" --model int.safetensors --tokenizer data/tokenizer.model --prompt Hi
# grad rows longer than the model's context: the token file is named.
"$PY" -c 'print(" ".join(str(i % 50 + 1) for i in range(40)))' >long_rows.txt
hostile "grad rows longer than seq_len" "long_rows.txt: sequence length 39 exceeds seq_len 32" -- \
  "$NL" grad --model $CKPT --tokens long_rows.txt --out g.safetensors

# ---- text that is not UTF-8
hostile "invalid UTF-8 prompt" "--prompt: invalid UTF-8 at byte 3" -- \
  "$NL" "${GEN[@]}" --model $CKPT --prompt $'Hi \xff there'
printf 'hello\nbad \xc3\x28 here\n' >bad_utf8.txt
hostile "invalid UTF-8 translate input" "bad_utf8.txt: line 2: invalid UTF-8 at byte 4" -- \
  "$NL" "${TRANSLATE[@]}" --input bad_utf8.txt --out hyp.txt
hostile "invalid UTF-8 translate input on stdin" "stdin: line 2: invalid UTF-8" -- \
  bash -c '"$@" <bad_utf8.txt' _ "$NL" "${TRANSLATE[@]}"

# ---- partial files: a failed translate leaves neither the output nor its temporary
printf 'hello\nworld\n' >src.txt
hostile "translate into a missing directory" "nodir/hyp.txt: cannot write" -- \
  "$NL" "${TRANSLATE[@]}" --input src.txt --out nodir/hyp.txt
hostile "translate with a missing input" "missing.txt: cannot open" -- \
  "$NL" "${TRANSLATE[@]}" --input missing.txt --out hyp.txt
check "translate to a file writes it whole" "$NL" "${TRANSLATE[@]}" --input src.txt --out hyp.txt
check "the translation has one line per source line" test "$(wc -l <hyp.txt)" -eq 2
check "no temporary files anywhere" test -z "$(leftover_tmp .)"
finish

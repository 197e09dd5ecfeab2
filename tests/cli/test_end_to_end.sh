#!/usr/bin/env bash
# End to end through the CLI: prepare -> train -> resume -> generate, config files and
# --dump-config. Called by ctest as: bash test_end_to_end.sh PATH_TO_normlab REPO_ROOT
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
begin_cli_test "$@"
require_corpus

# Steps of the short run; the long run takes 2N. Warmup is shorter than N so the resumed half
# runs on the inverse-sqrt part of the schedule. (inverse_sqrt does not depend on `steps`; with
# `cosine` a run of N steps is not the first half of a run of 2N steps, by design.)
N=6
TRAIN=("${TINY[@]}" --threads 2 --seed 3 --dropout 0.1 --warmup 4 --log_every 1 --eval_every 3
       --save_every 3 --data "$W/data" --out_dir run)

# Prints "STEP LOSS_TEXT" for every training line of a metrics.jsonl, the loss exactly as written;
# fails if any line is not a JSON object.
losses() {
  "$PY" - "$1" <<'EOF'
import json, re, sys
for n, line in enumerate(open(sys.argv[1]), 1):
    j = json.loads(line)
    if not isinstance(j, dict):
        sys.exit(f"line {n}: not an object")
    if "loss" in j:
        print(j["step"], re.search(r'"loss":([^,}]*)', line).group(1))
EOF
}

# ---- prepare
if "$NL" prepare --input "$CORPUS_FILES" --vocab_size $VOCAB --out_dir "$W/data" \
  >"$W/prep.out" 2>"$W/prep.err"; then
  ok "prepare on 3 fortune files exits 0"
else
  not_ok "prepare on 3 fortune files exits 0" "$(cat "$W/prep.err")"
fi
check "prepare writes tokenizer.model, train.bin, valid.bin, meta.json" \
  test -s "$W/data/tokenizer.model" -a -s "$W/data/train.bin" -a -s "$W/data/valid.bin" \
  -a -s "$W/data/meta.json"
check "meta.json is JSON with vocab_size $VOCAB" "$PY" -c \
  "import json,sys; m=json.load(open(sys.argv[1])); sys.exit(m['vocab_size'] != $VOCAB)" \
  "$W/data/meta.json"
check "prepare leaves no temporary files" test -z "$(leftover_tmp "$W/data")"

# ---- an uninterrupted run of 2N steps (A), and N steps then --resume to 2N (B), both with
# out_dir "run" (relative) so that the config stored in the checkpoints is the same.
mkdir -p "$W/A" "$W/B" "$W/C"
train_in() {  # train_in DIR ARGS...
  local dir=$1
  shift
  (cd "$dir" && "$NL" train "${TRAIN[@]}" "$@") >"$dir/train.out" 2>"$dir/train.err"
}
if train_in "$W/A" --steps $((2 * N)); then
  ok "train $((2 * N)) steps exits 0"
else
  not_ok "train $((2 * N)) steps exits 0" "$(tail -5 "$W/A/train.err")"
fi
check "train writes checkpoint, optimizer state, tokenizer, config.yaml, metrics.jsonl" \
  test -s "$W/A/run/checkpoint.safetensors" -a -s "$W/A/run/checkpoint.optim.safetensors" \
  -a -s "$W/A/run/tokenizer.model" -a -s "$W/A/run/config.yaml" -a -s "$W/A/run/metrics.jsonl"
check "train leaves no temporary files" test -z "$(leftover_tmp "$W/A/run")"
if losses "$W/A/run/metrics.jsonl" >"$W/A/losses" 2>"$W/A/losses.err" &&
  [ "$(wc -l <"$W/A/losses")" -eq $((2 * N)) ]; then
  ok "metrics.jsonl: every line is a JSON object, one loss per step"
else
  not_ok "metrics.jsonl: every line is a JSON object, one loss per step" \
    "$(cat "$W/A/losses.err")" "$(head -3 "$W/A/run/metrics.jsonl")"
fi
check "metrics.jsonl: losses finite, valid_loss logged at step 0 and $((2 * N))" "$PY" - \
  "$W/A/run/metrics.jsonl" $((2 * N)) <<'EOF'
import json, math, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert all(math.isfinite(r["loss"]) for r in rows if "loss" in r)
valid = {r["step"] for r in rows if "valid_loss" in r}
assert {0, int(sys.argv[2])} <= valid, valid
EOF

resume_ok=1
train_in "$W/B" --steps $N || resume_ok=0
cp "$W/B/train.err" "$W/B/train1.err"
train_in "$W/B" --steps $((2 * N)) --resume || resume_ok=0
if [ $resume_ok -eq 1 ]; then
  ok "train $N steps, then --resume --steps $((2 * N)) exits 0"
else
  not_ok "train $N steps, then --resume --steps $((2 * N)) exits 0" \
    "$(tail -3 "$W/B/train1.err")" "$(tail -3 "$W/B/train.err")"
fi
losses "$W/B/run/metrics.jsonl" >"$W/B/losses" 2>/dev/null || true
if [ "$(sed -n "$((N + 1)),\$p" "$W/A/losses")" = "$(sed -n "$((N + 1)),\$p" "$W/B/losses")" ] &&
  [ "$(wc -l <"$W/B/losses")" -eq $((2 * N)) ]; then
  ok "resumed losses of steps $((N + 1))..$((2 * N)) equal the uninterrupted run's bit for bit"
else
  not_ok "resumed losses of steps $((N + 1))..$((2 * N)) equal the uninterrupted run's bit for bit" \
    "$(diff "$W/A/losses" "$W/B/losses" | head -10)"
fi
check "resumed run: final checkpoint identical bytes" \
  cmp "$W/A/run/checkpoint.safetensors" "$W/B/run/checkpoint.safetensors"
check "resumed run: final optimizer state identical bytes" \
  cmp "$W/A/run/checkpoint.optim.safetensors" "$W/B/run/checkpoint.optim.safetensors"
check "resumed run: metrics.jsonl identical apart from tokens_per_s" \
  diff <(sed 's/"tokens_per_s":[^,}]*//' "$W/A/run/metrics.jsonl") \
  <(sed 's/"tokens_per_s":[^,}]*//' "$W/B/run/metrics.jsonl")

# ---- determinism: same seed and threads; and 1 thread vs 2
train_in "$W/C" --steps $((2 * N)) || true
losses "$W/C/run/metrics.jsonl" >"$W/C/losses" 2>/dev/null || true
check "two runs with the same seed and threads: identical losses" \
  cmp "$W/A/losses" "$W/C/losses"
check "two runs with the same seed and threads: identical checkpoints" \
  cmp "$W/A/run/checkpoint.safetensors" "$W/C/run/checkpoint.safetensors"
mkdir -p "$W/T1"
TRAIN_2T=("${TRAIN[@]}")
set_flag TRAIN --threads 1
train_in "$W/T1" --steps $((2 * N)) || true
TRAIN=("${TRAIN_2T[@]}")
losses "$W/T1/run/metrics.jsonl" >"$W/T1/losses" 2>/dev/null || true
# oneDNN may split a matmul's reduction differently for 1 and 2 threads (it does with its AVX2
# kernels), so across thread counts the losses agree to float round-off, not bit for bit.
close_losses() {
  paste "$1" "$2" | awk '{ d = $2 - $4; if (d < 0) d = -d; if ($1 != $3 || d > 1e-5 * $2) bad = 1 }
    END { exit (NR == 0 || bad) }'
}
check "1 thread vs 2 threads: losses equal to round-off" close_losses "$W/A/losses" "$W/T1/losses"

# ---- generate
CKPT="$W/A/run/checkpoint.safetensors"
gen() {  # gen OUTFILE ARGS...
  local out=$1
  shift
  "$NL" generate --model "$CKPT" --prompt "Hello" --max_tokens 20 "$@" >"$out" 2>"$out.err"
}
if gen "$W/g1" --seed 1 && gen "$W/g2" --seed 1; then
  ok "generate --seed 1 exits 0"
else
  not_ok "generate --seed 1 exits 0" "$(cat "$W/g1.err" "$W/g2.err")"
fi
check "generate prints the prompt and a continuation" \
  bash -c '[[ "$(head -c 5 "$1")" == Hello && $(wc -c <"$1") -gt 6 ]]' _ "$W/g1"
check "generate is deterministic for a fixed seed" cmp "$W/g1" "$W/g2"
if gen "$W/t1" --temperature 0 && gen "$W/t2" --temperature 0 --seed 7; then
  ok "generate --temperature 0 exits 0"
else
  not_ok "generate --temperature 0 exits 0" "$(cat "$W/t1.err" "$W/t2.err")"
fi
check "greedy decoding does not depend on the seed" cmp "$W/t1" "$W/t2"
check "generate --tokenizer explicit gives the same text" bash -c \
  '"$1" generate --model "$2" --tokenizer "$3" --prompt Hello --max_tokens 20 --seed 1 2>/dev/null |
   cmp - "$4"' _ "$NL" "$CKPT" "$W/data/tokenizer.model" "$W/g1"
check "generate --model RUN_DIR reads the run's checkpoint and tokenizer" bash -c \
  '"$1" generate --model "$2" --prompt Hello --max_tokens 20 --seed 1 2>/dev/null | cmp - "$3"' \
  _ "$NL" "$W/A/run" "$W/g1"
mkdir -p "$W/empty_run"
rc=0
"$NL" generate --model "$W/empty_run" --prompt Hello >"$W/empty.out" 2>"$W/empty.err" || rc=$?
check "generate --model on a directory without a checkpoint exits 1" test $rc -eq 1
check "... with one error line naming the directory" bash -c \
  '[[ $(wc -l <"$1") -eq 1 ]] && grep -q "^normlab: error: $2: a directory without checkpoint.safetensors" "$1"' \
  _ "$W/empty.err" "$W/empty_run"

# ---- --dump-config round trip: flags -> YAML -> --config reproduces the effective config
mkdir -p "$W/D"
(cd "$W/D" && "$NL" train "${TRAIN[@]}" --steps $((2 * N)) --dump-config >"$W/dump1.yaml")
check "train --dump-config prints the flags' values" \
  grep -qx 'd_model: 32' "$W/dump1.yaml"
(cd "$W/D" && "$NL" train --config "$W/dump1.yaml" --dump-config >"$W/dump2.yaml")
check "--config of a --dump-config output dumps the same config" cmp "$W/dump1.yaml" "$W/dump2.yaml"
(cd "$W/D" && "$NL" train --config "$W/dump1.yaml") >"$W/D/train.out" 2>"$W/D/train.err" || true
check "training from the dumped config reproduces config.yaml" \
  cmp "$W/A/run/config.yaml" "$W/D/run/config.yaml"
check "training from the dumped config reproduces the checkpoint" \
  cmp "$W/A/run/checkpoint.safetensors" "$W/D/run/checkpoint.safetensors"
check "config.yaml of a run is itself a valid --config" bash -c \
  '"$1" train --config "$2" --dump-config | cmp - "$2"' _ "$NL" "$W/A/run/config.yaml"
for cmd in prepare init generate grad; do
  extra=()
  case $cmd in
    init) extra=(--out x) ;;
    generate) extra=(--model x) ;;
    grad) extra=(--model x --tokens x --out x) ;;
  esac
  check "$cmd --dump-config prints a config that reads back" bash -c \
    '"$1" $2 --dump-config "${@:3}" >"$0.a" && "$1" $2 --config "$0.a" --dump-config "${@:3}" |
     cmp - "$0.a"' "$W/dump_$cmd" "$NL" "$cmd" "${extra[@]}"
done

# ---- precedence: later --config files override earlier ones, flags override all files
printf 'd_model: 48\nn_layers: 3\n' >"$W/c1.yaml"
printf '{"d_model": 64}\n' >"$W/c2.json"
key() {  # key NAME ARGS...: the value of NAME in the effective config
  local name=$1
  shift
  "$NL" train "$@" --dump-config | sed -n "s/^$name: //p"
}
check "later --config overrides earlier (c1, c2 -> 64)" \
  test "$(key d_model --config "$W/c1.yaml" --config "$W/c2.json")" = 64
check "later --config overrides earlier (c2, c1 -> 48)" \
  test "$(key d_model --config "$W/c2.json" --config "$W/c1.yaml")" = 48
check "keys not set by the later file keep the earlier file's value" \
  test "$(key n_layers --config "$W/c1.yaml" --config "$W/c2.json")" = 3
check "a flag overrides every file, wherever it appears" \
  test "$(key d_model --d_model 40 --config "$W/c1.yaml" --config "$W/c2.json")" = 40
check "dashed flag spelling works (--d-model)" \
  test "$(key d_model --config "$W/c1.yaml" --d-model 56)" = 56

# ---- options and help
check "normlab options exits 0 and lists placement" bash -c '"$1" options | grep -q -- --placement' \
  _ "$NL"
check "docs/options.md is what 'normlab options --markdown' prints" bash -c \
  '"$1" options --markdown | cmp - "$2/docs/options.md"' _ "$NL" "$ROOT"
for cmd in prepare train generate init grad options; do
  check "normlab $cmd --help exits 0" "$NL" $cmd --help
done

finish

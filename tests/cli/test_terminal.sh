#!/usr/bin/env bash
# What `normlab train` and `normlab sweep` print for a person: the start banner (parameters,
# placement with every block's resolved description, precision, threads, data, steps, run
# directory; an encoder-decoder's two stacks), the warmup >= steps warning, plain lines without
# control codes when the output is not a terminal, and on a terminal (a pty from `script`) a
# progress bar that fits the width with validation lines that stay on screen.
# Called by ctest as: bash test_terminal.sh PATH_TO_normlab REPO_ROOT
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
begin_cli_test "$@"
require_corpus
prepare_corpus data

# TINY without --progress false: the bar is on by default and must keep off a non-terminal.
RUN=(--d_model 32 --n_layers 2 --n_heads 2 --d_ff 64 --seq_len 32 --batch_size 4 --eval_batches 2
     --threads 1 --data data --steps 8 --log_every 2 --eval_every 4)

# ---- not a terminal: banner on stdout, plain periodic lines on stderr
"$NL" train "${RUN[@]}" --warmup 2 --out_dir plain >plain.out 2>plain.err ||
  { not_ok "fixture: train" "$(cat plain.err)"; finish; exit 1; }
for field in "normlab train: lm, [0-9,]+ parameters" "^  placement +pre, norm layernorm" \
  "^  blocks +2 x attn:n\|da mlp:n\|da, final norm, dt 1, init xavier" "^  precision +fp32" \
  "^  threads +1$" "^  data +data, batch 4 x 32 tokens" "^  steps +8, lr 0.001 inverse_sqrt, warmup 2" \
  "^  run +plain$"; do
  if grep -Eq "$field" plain.out; then ok "banner: /$field/"; else
    not_ok "banner: /$field/" "$(cat plain.out)"; fi
done
params=$(sed -n 's/^normlab train: lm, \([0-9,]*\) parameters$/\1/p' plain.out | tr -d ,)
stored=$("$PY" - plain/checkpoint.safetensors <<'EOF'
import json, math, struct, sys
f = open(sys.argv[1], "rb")
header = json.loads(f.read(struct.unpack("<Q", f.read(8))[0]))
header.pop("__metadata__", None)
print(sum(math.prod(t["shape"]) for t in header.values()))
EOF
)
check_that "banner: the parameter count is the checkpoint's ($stored)" "[ '$params' = '$stored' ]"
check_that "no warning when warmup < steps" "! grep -q 'warning' plain.err"
check_that "not a terminal: no carriage return or escape code on stdout or stderr" \
  "! grep -q \$'[\\r\\033]' plain.out plain.err"
check_that "not a terminal: a plain line every log_every steps, with elapsed time and ETA" \
  "[ \$(grep -Ec '^step [0-9]+/8  loss .*  elapsed [0-9]+s  ETA [0-9]+s$' plain.err) -eq 4 ]"
check_that "not a terminal: the validation lines" \
  "[ \$(grep -Ec '^step [48]  valid loss [0-9.]+  ppl' plain.err) -eq 2 ]"

"$NL" train "${RUN[@]}" --warmup 8 --out_dir warm >warm.out 2>warm.err ||
  { not_ok "fixture: train with warmup = steps" "$(cat warm.err)"; finish; exit 1; }
check_that "warmup >= steps: one warning line" \
  "[ \$(grep -c '^normlab: warning: warmup 8 >= steps 8: ' warm.err) -eq 1 ] &&
   [ \$(grep -c 'warning' warm.err) -eq 1 ]"

# ---- encoder-decoder: both stacks, the decoder's cross-attention, Mix-LN's two recipes
for i in 1 2 3 4 5 6 7 8; do echo "the cat $i and the dog"; done >a.en
for i in 1 2 3 4 5 6 7 8; do echo "die Katze $i und der Hund"; done >a.de
"$NL" prepare-parallel --src a.en --tgt a.de --out_dir pdata --vocab_size 290 \
  --valid_fraction 0.25 --test_fraction 0.125 >/dev/null 2>prep.err ||
  { not_ok "fixture: prepare-parallel" "$(cat prep.err)"; finish; exit 1; }
"$NL" train --data pdata --out_dir mt --arch encdec --encoder_layers 2 --n_layers 4 --d_model 32 \
  --n_heads 2 --d_ff 64 --seq_len 32 --placement mixln --batch_tokens 128 --steps 2 --warmup 1 \
  --eval_batches 1 --threads 1 >mt.out 2>mt.err ||
  { not_ok "fixture: train --arch encdec" "$(cat mt.err)"; finish; exit 1; }
for field in "^normlab train: encdec, [0-9,]+ parameters" "^  placement +mixln" \
  "^  encoder +2 x attn:n\|da mlp:n\|da," \
  "^  decoder +1 attn:\|dan cross:\|dan mlp:\|dan, 2-4 attn:n\|da cross:n\|da mlp:n\|da, final norm" \
  "^  data +pdata, batch 128 tokens"; do
  if grep -Eq "$field" mt.out; then ok "encdec banner: /$field/"; else
    not_ok "encdec banner: /$field/" "$(cat mt.out)"; fi
done

# ---- a terminal 40 columns wide
if ! command -v script >/dev/null; then
  skip "terminal checks" "script (util-linux) is not installed"
  finish
  exit 0
fi
# fits TRANSCRIPT: every line script recorded (split at \r and \n, escape codes removed) is at
# most 40 columns; the bar was drawn; each validation line is what remains of its line on screen.
fits() {
  "$PY" - "$1" <<'EOF'
import re, sys
raw = open(sys.argv[1], encoding="utf-8").read()
problems = []
for line in raw.split("\n"):
    segments = [re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", s) for s in line.split("\r")]
    problems += [f"{len(s)} columns: {s!r}" for s in segments if len(s) > 40]
if not re.search(r"\[#+\.*\] \d+/\d+", raw):
    problems.append("no progress bar drawn")
# What stays on screen of each line: the text after its last carriage return.
shown = [re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", l.rstrip("\r").split("\r")[-1]) for l in raw.split("\n")]
if "step 4  valid loss" in raw and not any(s.startswith("step 4  valid loss") for s in shown):
    problems.append("the validation line of step 4 was overwritten")
if "valid loss" not in raw:
    problems.append("no validation line")
sys.exit("\n".join(problems) or None)
EOF
}
# A pty whose size nobody set (stdin is not a terminal): the width comes from $COLUMNS.
COLUMNS=40 script -q -e -c "'$NL' train ${RUN[*]} --out_dir tty1" /dev/null </dev/null >tty1.txt 2>&1 ||
  { not_ok "fixture: train on a pty" "$(tail -c 1500 tty1.txt)"; finish; exit 1; }
check "train on a pty with COLUMNS=40: every line within 40 columns, the bar drawn, validation lines kept" \
  fits tty1.txt
check_that "the warning is one logical line on a terminal too (wrapped, not cut)" \
  "[ \$(tr -d '\\r' <tty1.txt | grep -A4 '^normlab: warning: warmup 100 >= steps 8:' | grep -c 'schedule') -eq 1 ]"
# The window size wins over $COLUMNS (which a shell may leave stale).
COLUMNS=200 script -q -e -c "stty cols 40; '$NL' train ${RUN[*]} --out_dir tty2" /dev/null \
  </dev/null >tty2.txt 2>&1 || { not_ok "fixture: train on a 40-column pty" "$(tail -c 1500 tty2.txt)"; finish; exit 1; }
check "train on a pty of 40 columns (ioctl): every line within 40 columns" fits tty2.txt

# A sweep: the bar over runs, then each run's banner, bar and result line, none mixed into another.
SWEEP=(--d_model 32 --n_heads 2 --d_ff 64 --seq_len 32 --batch_size 4 --eval_batches 2 --threads 1
       --data data --steps 4 --warmup 1 --eval_every 4 --placements pre,post --depths 1)
COLUMNS=40 script -q -e -c "'$NL' sweep ${SWEEP[*]} --out_dir sw" /dev/null </dev/null >sweep.txt 2>&1 ||
  { not_ok "fixture: sweep on a pty" "$(tail -c 1500 sweep.txt)"; finish; exit 1; }
check "sweep on a pty with COLUMNS=40: every line within 40 columns" fits sweep.txt
check_that "sweep on a pty: each run's result line on a line of its own" \
  "[ \$(tr -d '\\r' <sweep.txt | grep -Ec '^\\[[12]/2\\] (pre|post)-L1-lr1e-3-dt1-s1: ok') -eq 2 ]"
"$NL" sweep "${SWEEP[@]}" --out_dir sw2 >sweep.out 2>sweep.err ||
  { not_ok "fixture: sweep" "$(cat sweep.err)"; finish; exit 1; }
check_that "sweep, not a terminal: no carriage return or escape code" \
  "! grep -q \$'[\\r\\033]' sweep.out sweep.err"
check_that "sweep, not a terminal: one banner per run" "[ \$(grep -c '^normlab train: ' sweep.out) -eq 2 ]"

finish

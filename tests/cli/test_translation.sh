#!/usr/bin/env bash
# The encoder–decoder end to end on a small slice: prepare-parallel -> train (arch=encdec, B2T)
# -> resume -> translate (greedy and beam, file and stdin) -> eval BLEU; the model learns a toy
# word-by-word translation well enough to score far above an untrained one. Plus the errors of
# mixing the two kinds of model and corpus.
# Called by ctest as: bash test_translation.sh PATH_TO_normlab REPO_ROOT
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
begin_cli_test "$@"

# ---- a toy corpus: "the X and the Y" -> "das X' und das Y'" over 10 x 10 nouns
nouns=(house cat dog tree car book door window table chair)
nomen=(Haus Katze Hund Baum Auto Buch Tuer Fenster Tisch Stuhl)
for i in "${!nouns[@]}"; do
  for j in "${!nouns[@]}"; do
    echo "the ${nouns[$i]} and the ${nouns[$j]}" >>a.en
    echo "das ${nomen[$i]} und das ${nomen[$j]}" >>a.de
  done
done
check "prepare-parallel on the toy corpus" \
  "$NL" prepare-parallel --src a.en --tgt a.de --out_dir data --vocab_size 300 \
  --valid_fraction 0.1 --test_fraction 0.1

MT=(--arch encdec --encoder_layers 2 --n_layers 2 --d_model 32 --n_heads 2 --d_ff 64
    --seq_len 32 --placement b2t --positions sinusoidal --scale_embedding true --lr 3e-3
    --warmup 20 --batch_tokens 256 --eval_every 50 --eval_batches 4 --progress false --seed 2)
check "train --arch encdec (120 steps)" \
  "$NL" train --data data --out_dir run "${MT[@]}" --steps 120
# The banner's epoch line against the batching rule (docs/parallel-corpus.md, "Token budget and
# bucketing") recomputed here from the token files: pairs sorted by length, a batch takes the
# next pair while (B+1) * max(S, T) <= batch_tokens.
"$NL" train --data data --out_dir epoch "${MT[@]}" --steps 1 >epoch.out 2>&1 || true
check "the banner's epoch line: the batches and padding of the batching rule" "$PY" - <<'EOF2'
import array, json, re, struct
def lengths(path, eos):
    d = open(path, "rb").read()
    ids = array.array("i"); ids.frombytes(d[64:64 + 4 * struct.unpack("<Q", d[16:24])[0]])
    out, n = [], 0
    for t in ids:
        n += 1
        if t == eos: out.append(n); n = 0
    return out
eos = json.load(open("data/meta.json"))["eos_id"]
pairs = sorted(zip(lengths("data/train.src.bin", eos), lengths("data/train.tgt.bin", eos)))
batches, cur, S, T = [], [], 0, 0
for s, t in pairs:
    if cur and (len(cur) + 1) * max(S, s, T, t) > 256:
        batches.append(cur); cur, S, T = [], 0, 0
    cur.append((s, t)); S, T = max(S, s), max(T, t)
batches.append(cur)
cells = lambda i: sum(len(b) * max(p[i] for p in b) for b in batches)
pad = lambda i: 100 * (1 - sum(p[i] for p in pairs) / cells(i))
want = (f"{len(batches)} batches of {len(pairs)} pairs (mean {len(pairs) / len(batches):.0f}, "
        f"up to {max(len(b) for b in batches)}), padding {pad(0):.1f}% of source and "
        f"{pad(1):.1f}% of target cells")
line = [l for l in open("epoch.out") if l.startswith("  epoch")]
assert line and line[0].split(None, 1)[1].strip() == want, (line, want)
EOF2
check "diagnostics hold decoder blocks with cross-attention and the encoder's blocks" "$PY" -c '
import json
line = json.loads(open("run/diagnostics.jsonl").readline())
b = line["blocks"][0]
assert "grad_cross_out" in b and "cross_attn_entropy" in b, sorted(b)
assert len(line["encoder"]["blocks"]) == 2 and len(line["blocks"]) == 2
assert json.load(open("run/summary.json"))["status"] == "ok"'
check "resume to 150 steps" \
  "$NL" train --data data --out_dir run "${MT[@]}" --steps 150 --resume
check "150 steps in one go" "$NL" train --data data --out_dir straight "${MT[@]}" --steps 150
check "resumed run: same losses and weights as the uninterrupted one" "$PY" -c '
import json, struct
def tensors(path):
    b = open(path, "rb").read()
    return b[8 + struct.unpack("<Q", b[:8])[0]:]
def losses(path):
    return [(j["step"], j["loss"]) for j in map(json.loads, open(path)) if "loss" in j]
assert tensors("run/checkpoint.safetensors") == tensors("straight/checkpoint.safetensors")
assert losses("run/metrics.jsonl") == losses("straight/metrics.jsonl")'

head -n 10 data/test.en >src.en
head -n 10 data/test.de >ref.de
check "translate a file with beam 4" \
  "$NL" translate -m run/checkpoint.safetensors -i src.en -o beam.de --beam 4
check "translate stdin greedily" \
  sh -c "\"$NL\" translate -m run/checkpoint.safetensors --beam 1 <src.en >greedy.de"
check "one output line per source line" \
  test "$(wc -l <beam.de)" -eq 10 -a "$(wc -l <greedy.de)" -eq 10
"$NL" eval --metric bleu --hyp beam.de --ref ref.de --json >bleu.json
check "trained model: BLEU above 20 on the toy test set" "$PY" -c '
import json, sys
s = json.load(open("bleu.json"))
score = s.get("score", s.get("bleu"))
assert score > 20, s'

# ---- errors: one line naming the file
expect_error "translate with a language-model checkpoint" "needs an encoder-decoder" "$W" -- \
  sh -c "\"$NL\" init --out lm.safetensors --d_model 16 --n_heads 2 --n_layers 1 --d_ff 16 \
    --vocab_size 300 2>/dev/null && \"$NL\" translate -m lm.safetensors --tokenizer \
    data/tokenizer.model -i src.en"
expect_error "generate with an encoder-decoder checkpoint" "needs a language model" "$W" -- \
  "$NL" generate -m run/checkpoint.safetensors --prompt "the cat"
expect_error "an LM run on a parallel corpus" "train it with --arch encdec" "$W" -- \
  "$NL" train --data data --out_dir lmrun --steps 1 --progress false
finish

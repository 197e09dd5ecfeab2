#!/usr/bin/env bash
# `normlab prepare-parallel`: a small line-aligned corpus end to end and the input errors (exit 1,
# one stderr line "normlab: error: PATH: ...", no temporary files). The bundled gettext corpus is
# test_prepare_parallel_default_corpus.sh.
# Called by ctest as: bash test_prepare_parallel.sh PATH_TO_normlab REPO_ROOT
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
begin_cli_test "$@"


# ---- a small corpus: 8 x 8 noun pairs plus one untranslated line
nouns=(house cat dog tree car book door window)
nomen=(Haus Katze Hund Baum Auto Buch Tür Fenster)
for i in "${!nouns[@]}"; do
  for j in "${!nouns[@]}"; do
    echo "the ${nouns[$i]} and the ${nouns[$j]}" >>a.en
    echo "das ${nomen[$i]} und das ${nomen[$j]}" >>a.de
  done
done
echo "Format" >>a.en
echo "Format" >>a.de

check "prepare-parallel on two line-aligned files" \
  "$NL" prepare-parallel --src a.en --tgt a.de --out_dir out --vocab_size 300 \
  --valid_fraction 0.1 --test_fraction 0.1
for f in tokenizer.model meta.json {train,valid,test}.{src,tgt}.bin {train,valid,test}.{en,de}; do
  [ -s "out/$f" ] || { not_ok "output out/$f exists and is non-empty"; continue; }
done
ok "all outputs written"
check "meta.json: 64 pairs kept, 1 untranslated, parts add up" "$PY" -c '
import json, sys
m = json.load(open("out/meta.json"))
c, s = m["cleaning"], m["splits"]
assert c["kept"] == 64 and c["untranslated"] == 1, c
assert sum(s[p]["pairs"] for p in ("train", "valid", "test")) == 64, s
for p in ("train", "valid", "test"):
    n = len(open("out/%s.en" % p, encoding="utf-8").read().splitlines())
    assert n == s[p]["pairs"] == len(open("out/%s.de" % p, encoding="utf-8").read().splitlines())
'
check "same seed, same split" \
  "$NL" prepare-parallel --src a.en --tgt a.de --out_dir out2 --vocab_size 300 \
  --valid_fraction 0.1 --test_fraction 0.1
check "outputs are byte-identical across runs" cmp out/test.de out2/test.de
check "token files are byte-identical across runs" cmp out/train.tgt.bin out2/train.tgt.bin
if [ -z "$(leftover_tmp out out2)" ]; then ok "no temporary files"; else not_ok "no temporary files"; fi

# ---- errors
head -n 10 a.de >short.de
printf 'ok\n\xc3(\n' >bad.de
printf 'ok\nfine\n' >two.en
expect_error "missing source file" "nope.en: no such file" "$W" -- \
  "$NL" prepare-parallel --src nope.en --tgt a.de --out_dir e1
expect_error "mismatched line counts name both files" \
  "a.en: has 65 lines but short.de has 10" "$W" -- \
  "$NL" prepare-parallel --src a.en --tgt short.de --out_dir e2
expect_error "invalid UTF-8 with byte offset" "bad.de: invalid UTF-8 at byte 3" "$W" -- \
  "$NL" prepare-parallel --src two.en --tgt bad.de --out_dir e3
expect_error "--src without --tgt" "--tgt: give both --src and --tgt" "$W" -- \
  "$NL" prepare-parallel --src a.en --out_dir e4
expect_error "vocabulary too small" "vocab_size 100 is too small" "$W" -- \
  "$NL" prepare-parallel --src a.en --tgt a.de --out_dir e5 --vocab_size 100
PROGRESS_OK=1 expect_error "nothing left after cleaning" "two.en: no segment pairs left after cleaning" "$W" -- \
  "$NL" prepare-parallel --src two.en --tgt two.en --out_dir e6

finish

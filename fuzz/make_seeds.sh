#!/usr/bin/env bash
# Regenerates the seed corpora in fuzz/corpus/ (committed; run this only to change them):
# small valid inputs of each format, so the fuzzers start from the paths real files take.
# Usage: fuzz/make_seeds.sh path/to/normlab      (needs python3 and msgfmt from gettext)
set -euo pipefail
normlab=$(realpath "$1")
cd "$(dirname "$0")/corpus"
tiny=(--vocab_size 16 --d_model 4 --n_heads 1 --d_ff 4 --seq_len 4 --n_layers 1)

# safetensors: real checkpoints (every config key in the metadata), and hand-made headers with
# the other dtypes, an empty tensor and no metadata.
mkdir -p safetensors config token_file gettext_mo
"$normlab" init "${tiny[@]}" -o safetensors/lm.safetensors >/dev/null
"$normlab" init "${tiny[@]}" --arch encdec --encoder_layers 1 --placement post \
  -o safetensors/encdec.safetensors >/dev/null
python3 - <<'PY'
import json, struct
def write(path, header, data):
    text = json.dumps(header, separators=(",", ":"))
    text += " " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text.encode() + data)
write("safetensors/dtypes.safetensors",
      {"__metadata__": {"normlab.step": "7"},
       "a": {"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]},
       "b": {"dtype": "I64", "shape": [1, 1], "data_offsets": [4, 12]},
       "c": {"dtype": "F32", "shape": [0, 3], "data_offsets": [12, 12]},
       "d": {"dtype": "U8", "shape": [], "data_offsets": [12, 13]}},
      struct.pack("<2HqB", 0x3F80, 0xC020, -5, 9))
write("safetensors/empty.safetensors", {}, b"")

# Token files (docs/token-file.md): 64-byte header, then little-endian int32 ids.
def tokens(path, vocab, ids):
    header = b"NLTOKENS" + struct.pack("<IIQ", 1, vocab, len(ids)) + b"0123456789abcdef"
    with open(path, "wb") as f:
        f.write(header + bytes(24) + struct.pack("<%di" % len(ids), *ids))
tokens("token_file/small.tokens", 16, [1, 5, 15, 2, 0, 3, 3, 2])
tokens("token_file/empty.tokens", 4096, [])
PY

# Configs: the YAML an --dump-config prints, the repo's demo config, and JSON with every type.
"$normlab" init --dump-config -o unused > config/dump.yaml
cp ../../configs/demo.yaml config/demo.yaml
printf '%s\n' '{"d_model": 64, "lr": 1e-3, "positions": "sinusoidal", "decay_all": true,' \
  ' "data": null, "out_dir": "runs/a \"quoted\" name"}' > config/config.json
printf '%s\n' 'placement: &p mixln' 'lower_block: "attn:n|da mlp:n|da"' 'n_layers: +16' \
  'data:' "out_dir: 'single quoted'" > config/yaml-features.yaml

# gettext catalogs of both byte orders, with a context, a plural and the header entry.
cat > /tmp/normlab-seed.po <<'PO'
msgid ""
msgstr "Content-Type: text/plain; charset=UTF-8\n"

msgid "Open"
msgstr "Öffnen"

msgctxt "menu"
msgid "Quit"
msgstr "Beenden"

msgid "%d file"
msgid_plural "%d files"
msgstr[0] "%d Datei"
msgstr[1] "%d Dateien"
PO
msgfmt --endianness=little -o gettext_mo/little.mo /tmp/normlab-seed.po
msgfmt --endianness=big -o gettext_mo/big.mo /tmp/normlab-seed.po
rm /tmp/normlab-seed.po

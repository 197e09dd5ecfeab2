#!/usr/bin/env bash
# The main job on the bundled corpus (Debian's fortunes): prepare a tokenizer and token files,
# train a small Pre-LN model for a few minutes, and generate a sample.
set -euo pipefail
cd "$(dirname "$0")/.."
NORMLAB_TEST_DEPS=0 bash scripts/setup.sh
nl=build/normlab
$nl prepare --out_dir runs/fortunes-data --vocab_size 2048
$nl train --config configs/demo.yaml --data runs/fortunes-data --out_dir runs/demo
$nl generate --model runs/demo/checkpoint.safetensors --prompt "The meaning of life is" \
  --max_tokens 60 --temperature 0.8 --top_k 40

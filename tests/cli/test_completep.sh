#!/usr/bin/env bash
# CompleteP (docs/placements.md, "CompleteP") as a user sees it: --dump-config writes the resolved
# residual multiplier and the blocks' AdamW lr and eps multipliers for each depth, the values
# follow L / completep_base_depth, and a config dumped with them reads back as the same config.
# Called by ctest as: bash test_completep.sh PATH_TO_normlab REPO_ROOT
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
begin_cli_test "$@"

"$NL" train --placement completep --n_layers 8 --dump-config >lm8.yaml
check "the preset writes out its alpha" grep -qx "completep_alpha: '\?1'\?" lm8.yaml
check "L 8 over L_base 2: branches x 0.25, lr x 1, adam_eps / 4" \
  grep -qx "#   L 8, residual branch x 0.25 (dt 0.25), tensors in the blocks: lr x 1, adam_eps 2.5e-09" lm8.yaml
"$NL" train --placement completep --n_layers 8 --completep_alpha 0.5 --completep_base_depth 2 \
  --dt 0.5 --adam_eps 1e-6 --dump-config >half.yaml
check "alpha 0.5 (depth-muP): branches x 0.5, times dt 0.5; lr x 0.5, adam_eps x 0.5" \
  grep -qx "#   L 8, residual branch x 0.5 (dt 0.25), tensors in the blocks: lr x 0.5, adam_eps 5e-07" half.yaml
"$NL" train --placement completep --arch encdec --encoder_layers 4 --n_layers 2 --dump-config >ed.yaml
check "an encoder-decoder: each stack at its own depth" \
  bash -c 'grep -qx "#   encoder: L 4, residual branch x 0.5 (dt 0.5), tensors in the blocks: lr x 1, adam_eps 5e-09" "$0" &&
           grep -qx "#   decoder: L 2, residual branch x 1 (dt 1), tensors in the blocks: lr x 1, adam_eps 1e-08" "$0"' ed.yaml
"$NL" train --placement completep --n_layers 8 --completep_alpha off --dump-config >off.yaml
check "completep_alpha off given by hand turns the preset's scaling off" \
  bash -c 'grep -qx "completep_alpha: .off." "$0" && ! grep -q "CompleteP resolved" "$0"' off.yaml
"$NL" train --placement pre --n_layers 8 --dump-config >pre.yaml
check "another placement resolves auto to off" grep -qx "completep_alpha: .off." pre.yaml
check "without CompleteP no such lines" bash -c '! grep -q "CompleteP resolved" "$0"' pre.yaml
"$NL" train --config half.yaml --dump-config >half2.yaml
check "the dump reads back as the same config" cmp half.yaml half2.yaml
finish

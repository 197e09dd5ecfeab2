#!/usr/bin/env bash
# Admin (docs/placements.md, "Admin") as a user sees it: a fresh run profiles the shortcut weights
# on training batch 0 and says so, the checkpoint records where (normlab.shortcut_profile) and
# holds omega != 1, --resume continues without profiling again, a checkpoint whose metadata lacks
# the record cannot be resumed (one error line), and --dump-config writes the preset out.
# Called by ctest as: bash test_admin.sh PATH_TO_normlab REPO_ROOT
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
begin_cli_test "$@"
require_corpus

prepare_corpus data
TRAIN=("${TINY[@]}" --placement admin --threads 1 --seed 3 --warmup 2 --log_every 1
       --eval_every 100 --save_every 100 --data "$W/data")

"$NL" train --placement admin --dump-config >admin.yaml
check "--dump-config writes the preset's block" grep -qxF 'block: "attn:|dwn mlp:|dwn"' admin.yaml

"$NL" train "${TRAIN[@]}" --steps 3 --out_dir run >train.out 2>train.err
check "a fresh run says it profiled the shortcut weights" \
  grep -q "^normlab: Admin's shortcut weights profiled on training batch 0" train.out
# metadata FILE: the checkpoint's normlab.shortcut_profile, then its omega's distinct values.
metadata() {
  "$PY" - "$1" <<'PYEOF'
import json, struct, sys
with open(sys.argv[1], "rb") as f:
    n = struct.unpack("<Q", f.read(8))[0]
    head = json.loads(f.read(n))
    body = f.read()
meta = head["__metadata__"]
print(meta.get("normlab.shortcut_profile", "(none)"))
omegas = set()
for name, t in head.items():
    if name.endswith(".omega"):
        b, e = t["data_offsets"]
        omegas.update(struct.unpack(f"<{(e - b) // 4}f", body[b:e]))
print(len(omegas), min(omegas), max(omegas))
PYEOF
}
metadata run/checkpoint.safetensors >meta.txt
check "the checkpoint records where the omega were profiled" \
  grep -qx "training batch 0 (the first micro-batch of step 1), dropout off" meta.txt
check_that "the profiled (and trained) omega take several values" \
  '[ "$(sed -n 2p meta.txt | cut -d" " -f1)" -gt 1 ]'

"$NL" train --data "$W/data" --out_dir run --resume --steps 5 >resume.out 2>&1
check "--resume continues without profiling again" \
  bash -c '! grep -q "profiled" "$0" && grep -q "^train: 5 steps" "$0"' resume.out

# The same run with the record removed from its checkpoint's metadata.
"$PY" - run/checkpoint.safetensors <<'PYEOF'
import json, struct, sys
path = sys.argv[1]
with open(path, "rb") as f:
    n = struct.unpack("<Q", f.read(8))[0]
    head = json.loads(f.read(n))
    body = f.read()
del head["__metadata__"]["normlab.shortcut_profile"]
text = json.dumps(head).encode()
text += b" " * (-len(text) % 8)
with open(path, "wb") as f:
    f.write(struct.pack("<Q", len(text)) + text + body)
PYEOF
expect_error "resuming a checkpoint whose metadata lacks the profile" \
  "no 'normlab.shortcut_profile' in __metadata__" "$W/run" -- \
  "$NL" train --data "$W/data" --out_dir run --resume --steps 7
finish

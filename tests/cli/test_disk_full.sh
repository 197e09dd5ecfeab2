#!/usr/bin/env bash
# A full disk (docs/reliability.md, "Disk full"): a run whose out_dir is a small tmpfs with room
# for one checkpoint fails at its second save with one error line, keeps the first checkpoint
# intact and leaves no temporary or staged file; once there is room, --resume finishes it with
# the losses of an uninterrupted run. Needs a mount namespace (root, or unprivileged user
# namespaces); skipped (exit 77, ctest's SKIP_RETURN_CODE) where neither is allowed.
# Called by ctest as: bash test_disk_full.sh PATH_TO_normlab REPO_ROOT
set -euo pipefail
NL=$(realpath "$1")
ROOT=$(realpath "$2")

if [ "${IN_MOUNT_NAMESPACE:-}" != 1 ]; then
  for ns in "unshare --mount" "unshare --mount --map-root-user"; do
    if $ns sh -c 'd=$(mktemp -d) && mount -t tmpfs -o size=64k tmpfs "$d" && umount "$d" &&
                  rmdir "$d"' 2>/dev/null; then
      IN_MOUNT_NAMESPACE=1 exec $ns bash "$0" "$@"
    fi
  done
  echo "SKIP: cannot mount a tmpfs here (needs root or unprivileged user namespaces)"
  exit 77
fi

W=$(mktemp -d)
trap 'umount "$W/full" 2>/dev/null || true; rm -rf "$W"' EXIT
source "$ROOT/tests/cli/lib.sh"
require_corpus
cd "$W"

prepare_corpus data
# warmup below steps: a longer warmup is a warning line on stderr, and an error must be alone there.
TRAIN=("${TINY[@]}" --threads 1 --log_every 1 --eval_every 0 --diag_every 0 --save_every 1
       --steps 4 --warmup 2 --data "$W/data")

# The uninterrupted run gives the sizes: the tmpfs holds everything of a finished run plus half
# an optimizer state, so the second save (staged beside the first) cannot fit.
"$NL" train "${TRAIN[@]}" --out_dir ref >/dev/null 2>ref.err ||
  { not_ok "fixture: reference run" "$(cat ref.err)"; finish; exit 1; }
kib() { echo $((($(stat -c %s "$1") + 4095) / 4096 * 4)); }
size=$(($(kib ref/tokenizer.model) + $(kib ref/config.yaml) + $(kib ref/metrics.jsonl) +
  $(kib ref/diagnostics.jsonl) + $(kib ref/checkpoint.safetensors) +
  $(kib ref/checkpoint.optim.safetensors) * 3 / 2 + 8))
mkdir full
mount -t tmpfs -o size=${size}k tmpfs full
# out_dir is the mount point itself: an empty directory is a valid place for a new run. (No step
# lines on stderr: the error must be the only line.)
QUIET=("${TRAIN[@]}")  # a flag is given once: replaced, not repeated (lib.sh)
set_flag QUIET --log_every 1000
expect_error "train into a full disk" "cannot save step 2: No space left on device; the \
checkpoint of step 1 is kept" "full" -- "$NL" train "${QUIET[@]}" --out_dir full
check "no staged or commit files left" test -z "$(unfinished_writes full)"
check "the kept checkpoint is step 1 and loads" "$NL" generate --model full/checkpoint.safetensors \
  --prompt Hi --max_tokens 2 --seed 1
check "the kept checkpoint's metadata says step 1" grep -aq '"normlab.step":"1"' \
  full/checkpoint.safetensors

mount -o remount,size=$((size * 4))k full
rc=0
"$NL" train --data "$W/data" --out_dir full --resume --log_every 1 >/dev/null 2>resume.err || rc=$?
check "with room again, --resume finishes the run" test $rc -eq 0
check "its losses of steps 2-4 equal the uninterrupted run's bit for bit" \
  cmp <(train_losses ref/metrics.jsonl | tail -3) <(train_losses full/metrics.jsonl)
check "no temporary files left" test -z "$(leftover_tmp full)"
finish

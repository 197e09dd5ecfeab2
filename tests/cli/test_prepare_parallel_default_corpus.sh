#!/usr/bin/env bash
# `normlab prepare-parallel` without --src/--tgt: the bundled corpus from this machine's German
# gettext catalogs. Without catalogs the test is skipped (exit 77, ctest's SKIP_RETURN_CODE for
# tests/cli), so that ctest reports it as skipped rather than passed.
# Called by ctest as: bash test_prepare_parallel_default_corpus.sh PATH_TO_normlab REPO_ROOT
set -euo pipefail
NL=$(realpath "$1")
ROOT=$(realpath "$2")
if ! ls /usr/share/locale/de/LC_MESSAGES/*.mo >/dev/null 2>&1; then
  echo "skip: no /usr/share/locale/de/LC_MESSAGES/*.mo"
  exit 77
fi
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
# shellcheck source=lib.sh
source "$ROOT/tests/cli/lib.sh"
cd "$W"

check "default gettext corpus" "$NL" prepare-parallel --out_dir def --vocab_size 2000
check "default corpus yields pairs in every part" "$PY" -c '
import json
m = json.load(open("def/meta.json"))
print({p: m["splits"][p]["pairs"] for p in ("train", "valid", "test")})
assert all(m["splits"][p]["pairs"] > 0 for p in ("train", "valid", "test"))
'

finish

# shellcheck shell=bash disable=SC2034
# Shared helpers for tests/cli/test_*.sh (sourced, not run; ctest only registers test_*.sh).
# Usage in a script: NL=normlab binary, ROOT=repo root, then `source lib.sh`.
# Each check prints one line, `ok - DESC` or `not ok - DESC` (plus `#` diagnostics); `finish`
# prints `N passed, M failed, K skipped` and exits 1 if anything failed, else 77 if anything was
# skipped.

# begin_cli_test "$@": the common start of a test script called by ctest as
# `bash test_X.sh PATH_TO_normlab REPO_ROOT [...]`: sets NL and ROOT (absolute), makes the scratch
# directory W (removed when the script exits) and enters it.
begin_cli_test() {
  NL=$(realpath "$1")
  ROOT=$(realpath "$2")
  W=$(mktemp -d)
  trap 'rm -rf "$W"' EXIT
  cd "$W"
}

PASSED=0
FAILED=0
PY=/usr/bin/python3

ok() {
  echo "ok - $1"
  PASSED=$((PASSED + 1))
}

# not_ok DESC [DIAGNOSTIC...]
not_ok() {
  echo "not ok - $1"
  shift
  local line
  for line in "$@"; do printf '%s\n' "$line" | sed 's/^/#   /'; done
  FAILED=$((FAILED + 1))
}

# check DESC CMD...: ok if CMD succeeds.
check() {
  local desc=$1
  shift
  if "$@" >"$W/.check.out" 2>&1; then
    ok "$desc"
  else
    not_ok "$desc" "command: $*" "$(head -c 2000 "$W/.check.out")"
  fi
}

# check_that DESC EXPR: ok if the shell expression EXPR, evaluated with the script's variables,
# is true.
check_that() {
  if eval "$2"; then
    ok "$1"
  else
    not_ok "$1" "expression: $2"
  fi
}

# skip DESC WHY: a check this machine cannot run (a missing test dependency). `finish` then exits
# 77, which tests/CMakeLists.txt declares as SKIP_RETURN_CODE: ctest shows the test as skipped,
# not passed (unless something failed: then it fails).
SKIPPED=0
skip() {
  echo "ok - $1 # skip $2"
  SKIPPED=$((SKIPPED + 1))
}

finish() {
  echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
  [ "$FAILED" -eq 0 ] || return 1
  [ "$SKIPPED" -eq 0 ] || exit 77
}

# The slice of the default corpus the tests prepare: three small fortune files (~24 kB).
FORTUNES=/usr/share/games/fortunes
CORPUS_FILES="$FORTUNES/pets.u8,$FORTUNES/goedel.u8,$FORTUNES/magic.u8"
# These files hold ~90 distinct characters; with the 259 byte-fallback and special pieces the
# smallest vocabulary SentencePiece accepts is ~350.
VOCAB=400

# A tiny model that trains in well under a second per step on 2 cores.
TINY=(--d_model 32 --n_layers 2 --n_heads 2 --d_ff 64 --seq_len 32 --batch_size 4 --eval_batches 2
      --progress false)

require_corpus() {
  local f
  for f in ${CORPUS_FILES//,/ }; do
    if [ ! -f "$f" ]; then
      not_ok "default corpus present" "$f is missing: apt-get install fortunes"
      finish
      exit 1
    fi
  done
}

# set_flag ARRAY FLAG VALUE: gives FLAG the value VALUE in the named array of arguments (appended
# if absent). normlab rejects a flag given twice, so a case overriding a shared flag replaces it.
set_flag() {
  local -n args=$1
  local i
  for i in "${!args[@]}"; do
    if [ "${args[$i]}" = "$2" ]; then
      args[i + 1]=$3
      return
    fi
  done
  args+=("$2" "$3")
}

# checkpoint_step FILE: normlab.step in the metadata of a safetensors file.
checkpoint_step() {
  "$PY" - "$1" <<'EOF'
import json, struct, sys
with open(sys.argv[1], "rb") as f:
    n = struct.unpack("<Q", f.read(8))[0]
    print(json.loads(f.read(n))["__metadata__"]["normlab.step"])
EOF
}

# set_metadata FILE KEY VALUE: sets one __metadata__ value of a safetensors file in place (the
# header is rewritten, padded to 8 bytes; the tensor bytes are kept).
set_metadata() {
  "$PY" - "$@" <<'EOF'
import json, struct, sys
path, key, value = sys.argv[1:]
data = open(path, "rb").read()
n = struct.unpack("<Q", data[:8])[0]
header = json.loads(data[8:8 + n])
header["__metadata__"][key] = value
text = json.dumps(header).encode()
text += b" " * (-len(text) % 8)
open(path, "wb").write(struct.pack("<Q", len(text)) + text + data[8 + n:])
EOF
}

# checkpoint_metadata FILE KEY: one __metadata__ value of a safetensors file ("" if absent).
checkpoint_metadata() {
  "$PY" - "$1" "$2" <<'EOF'
import json, struct, sys
with open(sys.argv[1], "rb") as f:
    n = struct.unpack("<Q", f.read(8))[0]
    print(json.loads(f.read(n)).get("__metadata__", {}).get(sys.argv[2], ""))
EOF
}

# Prints the tmp files left under the given directories (none expected).
leftover_tmp() {
  find "$@" -name '*.tmp*' 2>/dev/null || true
}

# expect_error DESC NEEDLE DIRS -- CMD...: CMD exits 1 with exactly one stderr line that starts
# with "normlab: error: " and contains NEEDLE; DIRS (space-separated) hold no *.tmp* afterwards.
# With PROGRESS_OK=1, "prepare: " / "prepare-parallel: " progress lines printed before the error
# are ignored (for errors found only while training the tokenizer).
expect_error() {
  local desc=$1 needle=$2 dirs=$3
  shift 4
  local rc=0
  "$@" >"$W/err.out" 2>"$W/err.all" || rc=$?
  if [ "${PROGRESS_OK:-0}" = 1 ]; then
    grep -Ev '^prepare(-parallel)?: ' "$W/err.all" >"$W/err.txt" || true
  else
    cp "$W/err.all" "$W/err.txt"
  fi
  local lines first problems=()
  lines=$(wc -l <"$W/err.txt")
  first=$(head -1 "$W/err.txt")
  [ "$rc" -eq 1 ] || problems+=("exit code $rc, expected 1")
  [ "$lines" -eq 1 ] || problems+=("$lines lines on stderr, expected 1")
  [[ "$first" == "normlab: error: "* ]] || problems+=("stderr does not start with 'normlab: error: '")
  [[ "$first" == *"$needle"* ]] || problems+=("message does not contain '$needle'")
  local tmp
  # shellcheck disable=SC2086
  tmp=$(leftover_tmp $dirs)
  [ -z "$tmp" ] || problems+=("temporary files left: $tmp")
  if [ ${#problems[@]} -eq 0 ]; then
    ok "$desc: $first"
  else
    not_ok "$desc" "${problems[@]}" "command: $*" "stderr: $(head -c 1500 "$W/err.all")"
  fi
}

# prepare_corpus DIR: the default corpus slice prepared into DIR, or the script ends failing.
prepare_corpus() {
  "$NL" prepare --input "$CORPUS_FILES" --vocab_size $VOCAB --out_dir "$1" >/dev/null \
    2>"$W/prepare.err" || { not_ok "fixture: prepare $1" "$(cat "$W/prepare.err")"; finish; exit 1; }
}

# Prints "STEP LOSS" for each training line of a metrics.jsonl, the loss exactly as written.
train_losses() {
  sed -n 's/.*"loss":\([^,}]*\).*"step":\([0-9]*\).*/\2 \1/p' "$1"
}

# The newest step logged in RUN/metrics.jsonl (0 if none yet).
last_logged_step() {
  local s
  s=$(tail -n 2 "$1/metrics.jsonl" 2>/dev/null | sed -n 's/.*"step":\([0-9]*\).*/\1/p' | tail -1)
  echo "${s:-0}"
}

# Prints what unfinished writes left in a run directory: temporary files, staged checkpoint files
# (*.next) and the commit marker (docs/safetensors.md, "Checkpoints of a run"). None expected.
unfinished_writes() {
  leftover_tmp "$1"
  find "$1" -name '*.next' -o -name checkpoint.commit
}

# kill_during_second_run PID DONE MIDWAY: SIGKILLs the sweep process PID once run directory DONE
# has its summary.json and MIDWAY a checkpoint but no summary.json yet (waits up to ~60 s), then
# reaps it. Sets KILLED=1 if it was killed so, else 0 (the sweep ended first, or never got there).
kill_during_second_run() {
  local pid=$1 done_run=$2 midway=$3
  KILLED=0
  for _ in $(seq 1 3000); do
    if [ -f "$done_run/summary.json" ] && [ -f "$midway/checkpoint.safetensors" ] &&
      [ ! -f "$midway/summary.json" ]; then
      kill -9 "$pid" 2>/dev/null && KILLED=1
      break
    fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.02
  done
  wait "$pid" 2>/dev/null
}

# check_same_summary DESC REF DIR: ok if DIR/summary.csv is byte-identical to REF/summary.csv and
# DIR holds no temporary files.
check_same_summary() {
  local desc=$1 ref=$2 dir=$3
  if [ -s "$ref/summary.csv" ] && cmp -s "$ref/summary.csv" "$dir/summary.csv" &&
    [ -z "$(leftover_tmp "$dir")" ]; then
    ok "$desc"
  else
    not_ok "$desc" "$(diff "$ref/summary.csv" "$dir/summary.csv" 2>&1)" "$(leftover_tmp "$dir")"
  fi
}

# reference_sweep DIR ROWS ARGS...: the serial `normlab sweep ARGS --out_dir DIR` that distributed
# sweeps are compared with; the script ends failing unless its summary.csv has ROWS rows.
reference_sweep() {
  local dir=$1 rows=$2
  shift 2
  if "$NL" sweep "$@" --out_dir "$dir" >/dev/null 2>"$W/$dir.err" &&
    [ "$(tail -n +2 "$dir/summary.csv" | wc -l)" -eq "$rows" ]; then
    ok "serial sweep of $rows runs into $dir"
  else
    not_ok "serial sweep of $rows runs into $dir" "$(tail -5 "$W/$dir.err")"
    finish
    exit 1
  fi
}

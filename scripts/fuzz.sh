#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ with clang (ASan + UBSan) in build-fuzz/ and runs each
# for SECONDS (default 30), one after the other, starting from its seed corpus in the repo
# (fuzz/corpus/TARGET; what libFuzzer adds goes to build-fuzz/corpus/TARGET, the seeds stay as
# committed). Exits non-zero at the first crash, leak, UB, hang (> 10 s) or malformed error
# message; the input is kept in build-fuzz/findings/TARGET/ (rerun it: build-fuzz/fuzz/TARGET_fuzzer
# FILE). docs/reliability.md, "Fuzzing and sanitizers".
# Usage: scripts/fuzz.sh [SECONDS [TARGET...]]   TARGET: safetensors config token_file gettext_mo
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
[ $# -gt 0 ] && shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(safetensors config token_file gettext_mo)

cmake -S . -B build-fuzz -DNORMLAB_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Debug \
  ${NORMLAB_CMAKE_ARGS:-} >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target "${targets[@]/%/_fuzzer}"

# The targets write each input to a scratch file: keep that off the disk when a tmpfs is there.
scratch=$(mktemp -d -p "$([ -w /dev/shm ] && echo /dev/shm || echo "${TMPDIR:-/tmp}")")
trap 'rm -rf "$scratch"' EXIT
for t in "${targets[@]}"; do
  mkdir -p "build-fuzz/corpus/$t" "build-fuzz/findings/$t"
  dict=()
  [ -f "fuzz/$t.dict" ] && dict=(-dict="fuzz/$t.dict")
  log="build-fuzz/findings/$t/last-run.log"
  echo "fuzz: $t for ${seconds} s (log: $log)"
  if ! TMPDIR="$scratch" "build-fuzz/fuzz/${t}_fuzzer" "${dict[@]}" -max_total_time="$seconds" \
      -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
      -artifact_prefix="build-fuzz/findings/$t/" "build-fuzz/corpus/$t" "fuzz/corpus/$t" \
      >"$log" 2>&1; then
    tail -n 60 "$log"
    echo "fuzz: $t FAILED; the input is in build-fuzz/findings/$t/" >&2
    exit 1
  fi
  # The last status line: executions, coverage (cov: edges, ft: features), corpus size.
  grep -E '^#[0-9]+' "$log" | tail -n 1
  grep -E '^stat::number_of_executed_units' "$log" || true
done

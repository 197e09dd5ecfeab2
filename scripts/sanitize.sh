#!/usr/bin/env bash
# Builds the GoogleTest binaries with AddressSanitizer + UndefinedBehaviorSanitizer (gcc) in
# build-asan/ and runs them: an out-of-bounds access, use after free, leak or undefined behaviour
# fails the test it happens in. docs/reliability.md, "Fuzzing and sanitizers".
# Usage: scripts/sanitize.sh [SUITE...]   SUITE: a tests/ folder (core kernels model io data train diag
# report eval decode); default: all of them.
set -euo pipefail
cd "$(dirname "$0")/.."
suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(core kernels model io data train diag report eval decode)

# -O1 keeps the instrumented tests fast enough; every UB report aborts. Warnings are not errors
# here: GCC's sanitizer instrumentation provokes false -Wmaybe-uninitialized/-Wstringop reports,
# and the Release build (scripts/test.sh) already enforces -Werror on the same code.
sanitize="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g $sanitize" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
  -DNORMLAB_WERROR=OFF -DNORMLAB_BENCH=OFF ${NORMLAB_CMAKE_ARGS:-} >/dev/null
cmake --build build-asan -j"$(nproc)" --target "${suites[@]/#/test_}"

export OMP_WAIT_POLICY=PASSIVE
export ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export OMP_NUM_THREADS=2
# One binary per tests/ folder, run from where ctest runs them.
cd build-asan/tests
failed=()
for s in "${suites[@]}"; do
  echo "sanitize: test_$s"
  start=$SECONDS
  if ./"test_$s" --gtest_brief=1 >"test_$s.log" 2>&1; then
    echo "sanitize: test_$s passed ($((SECONDS - start)) s)"
  else
    tail -n 80 "test_$s.log"
    echo "sanitize: test_$s FAILED (log: build-asan/tests/test_$s.log)" >&2
    failed+=("$s")
  fi
done
[ ${#failed[@]} -eq 0 ]

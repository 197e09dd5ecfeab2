#!/usr/bin/env bash
# Builds the tests with AddressSanitizer + LeakSanitizer + UndefinedBehaviorSanitizer (gcc) in
# build-asan/ (the Release build in build/ is untouched) and runs them: an out-of-bounds access,
# use after free, leak or undefined behaviour fails the suite it happens in, whatever the test
# itself asserts. docs/reliability.md, "Sanitizers", says what runs in CI and how long it takes.
# Usage: scripts/sanitize.sh [SUITE...]
#   SUITE: a tests/ folder with GoogleTest sources (core kernels model io data train diag report
#   eval decode), or cli (the shell tests of tests/cli/ against the instrumented normlab binary),
#   or cli.test_NAME (one of them). Default: every GoogleTest folder (what CI runs).
set -euo pipefail
cd "$(dirname "$0")/.."
suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(core kernels model io data train diag report eval decode)
targets=()
for s in "${suites[@]}"; do
  case $s in
    cli | cli.*) targets+=(normlab) ;;
    *) targets+=("test_$s") ;;
  esac
done

# The Release build's instruction set and floating-point mode (CMakeLists.txt), so that the
# kernels compile to the same AVX2 code, at -O1 to keep the instrumented tests fast enough; no
# -DNDEBUG, so asserts are checked too. float-cast-overflow (a float converted to an integer type
# that cannot hold it) is UB but not in GCC's "undefined" group. -fno-sanitize-recover=all: every
# UBSan check aborts, so a run cannot pass with a report in it. Warnings are not errors here:
# GCC's instrumentation provokes false -Wmaybe-uninitialized/-Wstringop reports, and the Release
# build (scripts/test.sh) enforces -Werror on the same code.
sanitize="-fsanitize=address,undefined,float-cast-overflow -fno-omit-frame-pointer -fno-sanitize-recover=all"
flags="-O1 -g -march=native -fno-trapping-math $sanitize"
start=$SECONDS
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="$flags" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" -DNORMLAB_WERROR=OFF -DNORMLAB_BENCH=OFF \
  ${NORMLAB_CMAKE_ARGS:-} >/dev/null
cmake --build build-asan -j"$(nproc)" --target "${targets[@]}"
# The instrumentation is really in the library, with no UBSan check that reports and continues
# (a recoverable check calls __ubsan_handle_X, a fatal one __ubsan_handle_X_abort; unreachable
# and missing return have only the fatal form).
symbols=$(nm -u build-asan/libnormlab.a)
grep -q '__asan_report_load' <<<"$symbols" || { echo "sanitize: library not instrumented" >&2; exit 1; }
recoverable=$(grep -oE '__ubsan_handle_[a-z0-9_]+' <<<"$symbols" | sort -u |
  grep -vE '_abort$|^__ubsan_handle_(builtin_unreachable|missing_return)$' || true)
[ -z "$recoverable" ] || { echo "sanitize: recoverable UBSan checks: $recoverable" >&2; exit 1; }
echo "sanitize: build took $((SECONDS - start)) s"

# Every report is also written to a file in $reports, so that a report fails the suite even where
# a test expects a failing exit or does not look at stderr (the CLI tests). GCC's libubsan prints
# its own report only to stderr; abort_on_error makes it then abort, and ASan's SIGABRT handler
# (handle_abort) writes the stack to the file (UBSan's log_path must name the same file: libubsan
# sets the report path of libasan). The canary below proves that every kind of report lands there.
reports=$PWD/build-asan/sanitizer-reports
rm -rf "$reports"
mkdir -p "$reports"
export ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:handle_abort=1:log_path=$reports/report
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:abort_on_error=1:log_path=$reports/report
export OMP_WAIT_POLICY=PASSIVE OMP_NUM_THREADS=2

# Fails with the reports printed if there is any.
no_reports() {
  compgen -G "$reports/report.*" >/dev/null || return 0
  for f in "$reports"/report.*; do head -n 60 "$f"; done
  return 1
}

# The canary: one deliberate defect per kind of report, built with the same flags; each must exit
# non-zero and leave the expected report.
g++ $flags tests/sanitize/sanitizer_canary.cpp -o build-asan/sanitizer_canary
for kind in heap-overflow:heap-buffer-overflow use-after-free:heap-use-after-free \
  leak:'LeakSanitizer: detected memory leaks' signed-overflow:__ubsan_handle_add_overflow_abort \
  float-cast-overflow:__ubsan_handle_float_cast_overflow_abort; do
  if build-asan/sanitizer_canary "${kind%%:*}" 2>/dev/null ||
    ! grep -qs "${kind#*:}" "$reports"/report.*; then
    echo "sanitize: the canary's ${kind%%:*} was not reported as ${kind#*:}" >&2
    exit 1
  fi
  rm -f "$reports"/report.*
done
echo "sanitize: canary caught every kind of report"

failed=()
for s in "${suites[@]}"; do
  echo "sanitize: $s"
  start=$SECONDS
  log=$PWD/build-asan/sanitize-$s.log
  case $s in
    cli) run=(ctest --test-dir build-asan -R '^cli\.' -j2 --timeout 3600 --output-on-failure) ;;
    cli.*) run=(ctest --test-dir build-asan -R "^${s//./\\.}\$" --timeout 3600 --output-on-failure) ;;
    *) run=(bash -c "cd build-asan/tests && exec ./test_$s --gtest_brief=1") ;;
  esac
  if "${run[@]}" >"$log" 2>&1 && no_reports >>"$log"; then
    echo "sanitize: $s passed ($((SECONDS - start)) s)"
  else
    tail -n 100 "$log"
    echo "sanitize: $s FAILED (log: $log)" >&2
    failed+=("$s")
    rm -f "$reports"/report.*
  fi
done
[ ${#failed[@]} -eq 0 ]

#!/usr/bin/env bash
# Installs, builds and runs the whole test suite (GoogleTest, PyTorch parity, CLI end to end).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# Tests run two at a time on 2 cores: spinning OpenMP threads would fight over them.
export OMP_WAIT_POLICY=PASSIVE
(cd build && ctest --output-on-failure -j2 --timeout 900)
# Every GoogleTest suite under ASan/LeakSanitizer/UBSan, built in build-asan/ (docs/reliability.md,
# "Sanitizers": what it covers and how long it takes).
bash scripts/sanitize.sh
# Every fuzz target for 30 s (docs/reliability.md, "Fuzzing and sanitizers").
bash scripts/fuzz.sh 30

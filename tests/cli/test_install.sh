#!/usr/bin/env bash
# The installed package (docs/library.md): `cmake --install` into a temporary prefix, then
# examples/score_and_step built against it with CMake (find_package(normlab) -> normlab::core) and
# with pkg-config, run on a trained checkpoint: it scores the text and one AdamW step lowers the
# loss; the Python package imports from the prefix and scores it too.
# Usage: bash test_install.sh PATH_TO_normlab REPO_ROOT (the build tree is normlab's folder)
set -uo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
begin_cli_test "$@"
BUILD=$(dirname "$NL")
require_corpus
P="$W/prefix"

check "cmake --install into a fresh prefix" cmake --install "$BUILD" --prefix "$P"
check "installed: library, API headers, CMake package, pkg-config file" test -f "$P/lib/libnormlab.a" \
  -a -f "$P/include/normlab/normlab.hpp" -a -f "$P/lib/cmake/normlab/normlabConfig.cmake" \
  -a -f "$P/lib/pkgconfig/normlab.pc" -a -x "$P/bin/normlab"
# One version everywhere: the binary's --version, the pkg-config file and the CMake package.
version=$("$P/bin/normlab" --version | sed -n 's/^normlab \([0-9][0-9.]*\)$/\1/p')
check "normlab --version, pkg-config and find_package(normlab VERSION) name one version" \
  bash -c 'test -n "$0" && grep -qx "Version: $0" "$1/lib/pkgconfig/normlab.pc" &&
           grep -q "PACKAGE_VERSION \"$0\"" "$1/lib/cmake/normlab/normlabConfigVersion.cmake"' \
  "$version" "$P"
internal=$(grep -h '^#include' "$P"/include/normlab/*.hpp | grep -v -e '<[a-z_]*>' -e '"normlab/' || true)
if [ -z "$internal" ]; then ok "API headers include only the standard library and each other"
else not_ok "API headers include only the standard library and each other" "$internal"; fi

# A trained run's checkpoint and tokenizer.
"$NL" prepare --input "$CORPUS_FILES" --vocab_size $VOCAB --out_dir "$W/data" >/dev/null 2>&1
"$NL" train "${TINY[@]}" --threads 2 --steps 2 --warmup 1 --data "$W/data" --out_dir "$W/run" \
  >/dev/null 2>&1
CKPT="$W/run/checkpoint.safetensors"
check "a trained checkpoint to run the example on" test -f "$CKPT"

# run_example DESC BINARY: it prints the loss and a lower loss after one step.
run_example() {
  local out
  if out=$(OMP_NUM_THREADS=2 "$2" "$CKPT" "The cat sat on the mat, and the dog watched it." 0.01 2>&1) &&
    $PY -c 'import sys
v = dict(l.split() for l in sys.argv[1].splitlines())
assert int(v["tokens"]) > 5 and 0 < float(v["loss"]) < 20, v
assert float(v["loss_after_step"]) < float(v["loss"]), v' "$out"; then
    ok "$1"
  else
    not_ok "$1" "$out"
  fi
}

if cmake -S "$ROOT/examples/score_and_step" -B "$W/ex" -DCMAKE_PREFIX_PATH="$P" \
  -DCMAKE_BUILD_TYPE=Release >"$W/ex.log" 2>&1 && cmake --build "$W/ex" >>"$W/ex.log" 2>&1; then
  ok "examples/score_and_step builds with find_package(normlab)"
  run_example "the CMake-built example scores a text and one AdamW step lowers its loss" \
    "$W/ex/score_and_step"
else
  not_ok "examples/score_and_step builds with find_package(normlab)" "$(tail -20 "$W/ex.log")"
fi

if g++ -std=c++20 -O1 -o "$W/ex_pc" "$ROOT/examples/score_and_step/main.cpp" \
  $(PKG_CONFIG_PATH="$P/lib/pkgconfig" pkg-config --cflags --libs normlab) >"$W/pc.log" 2>&1; then
  ok "the example builds with pkg-config --cflags --libs normlab"
  run_example "the pkg-config-built example runs" "$W/ex_pc"
else
  not_ok "the example builds with pkg-config --cflags --libs normlab" "$(tail -20 "$W/pc.log")"
fi
# The Python package (docs/python.md), where Debian's python3 looks under the prefix.
if compgen -G "$BUILD/python/normlab/_core.*.so" >/dev/null; then
  SITE=$(echo "$P"/lib/python3.*/dist-packages)
  check "installed: the Python package imports from lib/python3.X/dist-packages and scores tokens" \
    env PYTHONPATH="$SITE" OMP_NUM_THREADS=2 /usr/bin/python3 -c "import numpy, normlab
assert normlab.__file__.startswith('$SITE'), normlab.__file__
assert 0 < normlab.load('$CKPT').loss(numpy.array([[1, 2, 3, 4]])) < 20"
fi
finish

#!/usr/bin/env bash
# Installs the Debian packages normlab needs (Debian 12, as root or with sudo) and builds it in
# Release into build/. Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(g++ cmake make pkg-config libdnnl-dev libsentencepiece-dev libcli11-dev
          nlohmann-json3-dev libyaml-cpp-dev libgtest-dev libgmock-dev libbenchmark-dev fortunes
          libjs-chart.js libopenmpi-dev openmpi-bin iproute2)
# The Python module normlab._core (docs/python.md), for Debian's /usr/bin/python3.
packages+=(pybind11-dev python3-dev python3-numpy)
# German GNU gettext catalogs for the default corpus of `normlab prepare-parallel`
# (docs/parallel-corpus.md): about 42 MB download, 270 MB installed, no services. Without them the
# default corpus is only what the base system ships. NORMLAB_CORPUS_DEPS=0 skips them.
if [ "${NORMLAB_CORPUS_DEPS:-1}" = 1 ]; then
  packages+=(gcc-12-locales util-linux-locales aptitude-common mc-data cryptsetup-bin libparted-i18n
             bison gimp-data evolution-common gnucash-common gnome-control-center-data nautilus-data)
fi
# Test-only: the PyTorch oracle (parity tests, bench/) and Chromium (report page checks, PNGs).
if [ "${NORMLAB_TEST_DEPS:-1}" = 1 ]; then packages+=(python3-torch libopenblas0-pthread chromium); fi
# Test-only: clang's libFuzzer and sanitizer runtimes for scripts/fuzz.sh (docs/reliability.md).
if [ "${NORMLAB_TEST_DEPS:-1}" = 1 ]; then packages+=(clang libclang-rt-14-dev); fi
# Test-only: GCC's ASan and UBSan runtimes for scripts/sanitize.sh (g++ already depends on them).
if [ "${NORMLAB_TEST_DEPS:-1}" = 1 ]; then packages+=(libasan8 libubsan1); fi
# Test-only: Node.js, to check that every script of the report page parses (report.page_script_parses).
if [ "${NORMLAB_TEST_DEPS:-1}" = 1 ]; then packages+=(nodejs); fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO=sudo
  echo "setup: installing ${missing[*]}" >&2
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release ${NORMLAB_CMAKE_ARGS:-} >/dev/null
cmake --build build -j"$(nproc)"

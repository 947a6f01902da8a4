#!/usr/bin/env bash
# build-plain.sh SOURCE_DIR BUILD_DIR: builds sipregd and sipregctl without sanitizers for
# the systemd container test (the unit's system call filter refuses the setrlimit call
# AddressSanitizer makes at start, so a sanitized daemon cannot run under the real unit).
set -euo pipefail
src=${1:?SOURCE_DIR}; out=${2:?BUILD_DIR}
cmake -S "$src" -B "$out" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g0" \
  -DSIPREG_SANITIZE=OFF -DSIPREG_BUILD_TESTS=OFF -DSIPREG_BUILD_BENCH=OFF >/dev/null
targets=(sipregd)
grep -q 'add_executable(sipregctl' "$src/daemon/CMakeLists.txt" && targets+=(sipregctl)
cmake --build "$out" -j"$(nproc)" --target "${targets[@]}"

#!/usr/bin/env bash
# Builds native/grid-kernel.wasm from native/grid-kernel.c (the grid curve application's
# full-resolution passes, src/enhance/grid-wasm.ts). The .wasm is committed, so installing
# pie-stream needs no compiler; run this after editing the C, with Debian's clang and lld
# (apt-get install clang lld). test/enhance/grid-wasm.test.ts rebuilds it and compares bytes.
# Usage: scripts/build-wasm.sh [OUT]   (default native/grid-kernel.wasm)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-native/grid-kernel.wasm}"
# SIMD for the apply pass; bulk memory so zeroing is memory.fill (there is no libc memset);
# non-trapping float→int so a NaN converts to 0 instead of trapping; the stack first and
# __heap_base exported: the caller lays out its buffers from there.
clang --target=wasm32 -O3 -msimd128 -mbulk-memory -mnontrapping-fptoint -nostdlib \
  -Wl,--no-entry -Wl,--stack-first -Wl,-z,stack-size=65536 -Wl,--export=__heap_base \
  -o "$out" native/grid-kernel.c

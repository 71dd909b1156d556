#!/usr/bin/env bash
# Builds the WebAssembly kernels in native/ from their C: grid-kernel (the grid curve
# application's full-resolution passes, src/enhance/grid-wasm.ts) and denoise-kernel (the
# denoiser's graph as fused passes, src/denoise/denoise-wasm.ts). The .wasm files are committed,
# so installing pie-stream needs no compiler; run this after editing the C, with Debian's clang
# and lld (apt-get install clang lld). The tests rebuild them and compare bytes.
# Usage: scripts/build-wasm.sh [OUTDIR]   (default native/)
set -euo pipefail
cd "$(dirname "$0")/.."
outdir="${1:-native}"
# SIMD (the grid's apply pass; clang vectorises plain loops with it too); bulk memory so zeroing
# is memory.fill (there is no libc memset); non-trapping float→int so a NaN converts to 0 instead
# of trapping; the stack first and __heap_base exported: the caller lays out its buffers from there.
for name in grid-kernel denoise-kernel; do
  clang --target=wasm32 -O3 -msimd128 -mbulk-memory -mnontrapping-fptoint -nostdlib \
    -Wl,--no-entry -Wl,--stack-first -Wl,-z,stack-size=65536 -Wl,--export=__heap_base \
    -o "$outdir/$name.wasm" "native/$name.c"
done

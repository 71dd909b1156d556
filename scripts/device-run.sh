#!/usr/bin/env bash
# On the lent GPU machine (no Node, no npm, no network): unpacks .carry/ (built here by
# scripts/device-carry.sh) into /tmp, then
#   B. a time-boxed WebGPU bench: scripts/device-gpu-bench.mjs, else scripts/device-webgpu-bench.mjs
#      (optional: skipped when missing, a failure does not stop part A);
#   A. continues the PIE training run from .carry/train/pie-v2.onnx.checkpoint.onnx on the CPU
#      cores, under `timeout`; the trainer checkpoints every 100 steps into $OUT.
# Everything goes to $OUT/run.log; the checkpoint and log CSV come back in $OUT.
#   TRAIN_SECONDS (390)  BENCH_SECONDS (120, 0 skips B)  TRAIN_THREADS (nproc)  PIE_UNPACK (/tmp/pie-carry)
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
C=$ROOT/.carry
OUT=${OUT:-/tmp/pie-out}
U=${PIE_UNPACK:-/tmp/pie-carry}
TRAIN_SECONDS=${TRAIN_SECONDS:-390}
BENCH_SECONDS=${BENCH_SECONDS:-120}
THREADS=${TRAIN_THREADS:-$(nproc)}
mkdir -p "$OUT"
exec > >(tee -a "$OUT/run.log") 2>&1
T0=$(date +%s)
say() { echo "[device-run +$(($(date +%s) - T0))s] $*"; }

# xz without the xz tool (Python's lzma reads the x86 filter too).
unxz_to() { if command -v xz >/dev/null; then xz -dc "$1" > "$2"; else
  python3 -c 'import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2],"wb"), 1<<20)' "$1" "$2"; fi; }
untar() { if command -v xz >/dev/null || [ "${1##*.}" = tar ]; then tar -xf "$1" -C "$2"; else
  python3 -c 'import tarfile,sys; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' "$1" "$2"; fi; }

[ -f "$C/STAMP" ] || { say "no .carry/STAMP: run scripts/device-carry.sh and name .carry in carry"; exit 2; }
if [ "$(cat "$U/STAMP" 2>/dev/null)" != "$(cat "$C/STAMP")" ]; then
  say "unpacking .carry into $U"
  rm -rf "$U"; mkdir -p "$U/bin" "$U/vk"
  untar "$C/nm.tar.xz" "$U"
  unxz_to "$C/node.xz" "$U/bin/node" & p1=$!
  unxz_to "$C/ort.so.xz" "$U/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1" & p2=$!
  unxz_to "$C/vips.so.xz" "$U/node_modules/$(cat "$C/vips.name")" & p3=$!
  untar "$C/sice.tar" "$U" & p4=$!
  unxz_to "$C/squeezenet1.1_features.onnx.xz" "$U/squeezenet1.1_features.onnx"
  untar "$C/vk.tar.xz" "$U/vk" & p5=$!
  wait $p1 $p2 $p3 $p4 $p5 || { say "unpack failed"; exit 2; }
  chmod +x "$U/bin/node"
  cp "$C/STAMP" "$U/STAMP"
else
  say "reusing $U"
fi
export PATH="$U/bin:$PATH"
untar "$C/dist.tar.xz" "$ROOT"
if [ -L node_modules ] || [ ! -e node_modules ]; then ln -sfn "$U/node_modules" node_modules
else say "keeping the existing node_modules/"; fi

say "facts: $(nvidia-smi -L 2>&1 | head -2 | tr '\n' ' ') nproc=$(nproc) node=$(node --version) $(uname -r)"

# ---- B: WebGPU bench (optional, time-boxed) ----
BENCH=scripts/device-gpu-bench.mjs
[ -f "$BENCH" ] || BENCH=scripts/device-webgpu-bench.mjs
if [ "$BENCH_SECONDS" -gt 0 ] && [ -f "$BENCH" ]; then
  ICD=""
  for f in /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json \
           /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json $(ls /usr/share/vulkan/icd.d/*nvidia* /etc/vulkan/icd.d/*nvidia* 2>/dev/null); do
    [ -f "$f" ] && { ICD=$f; break; }; done
  say "vulkan ICD: ${ICD:-none found}; system loader: $(ldconfig -p 2>/dev/null | grep -c libvulkan.so) entries"
  [ -n "$ICD" ] && cat "$ICD"
  VKLIB=$(dirname "$(find "$U/vk" -name 'libvulkan.so.1' | head -1)")
  say "part B: $BENCH (timeout ${BENCH_SECONDS}s)"
  mkdir -p "$OUT/bench"
  ( export LD_LIBRARY_PATH="$VKLIB${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    [ -n "$ICD" ] && export VK_ICD_FILENAMES="$ICD" VK_DRIVER_FILES="$ICD"
    OUT="$OUT/bench" timeout -k 5 "$BENCH_SECONDS" node "$BENCH" 2> "$OUT/bench/stderr.log" )
  rc=$?
  say "part B exit $rc (124 = timed out); ORT placement: $(grep -c 'CPUExecutionProvider' "$OUT/bench/stderr.log") lines name the CPU provider"
  grep -i 'CPUExecutionProvider' "$OUT/bench/stderr.log" | grep -io 'node[^,]*' | sort | uniq -c | sort -rn | head -20
  tail -5 "$OUT/bench/stderr.log"
  xz -9 "$OUT/bench/stderr.log"
else
  say "part B skipped"
fi

# ---- A: resume training on the CPU cores ----
cp "$C/train/pie-v2.onnx.checkpoint.onnx" "$OUT/pie-v2.onnx.checkpoint.onnx"
[ -f "$C/train/pie-v2.onnx.log.csv" ] && cp "$C/train/pie-v2.onnx.log.csv" "$OUT/pie-v2.onnx.log.csv"
say "part A: resume from step $(tail -1 "$OUT/pie-v2.onnx.log.csv" 2>/dev/null | cut -d, -f1), ${THREADS} threads, ${TRAIN_SECONDS}s"
timeout -k 10 "$TRAIN_SECONDS" node bin/pie-stream.js train --inputs "$U/low" --positives "$U/normal" \
  --out "$OUT/pie-v2.onnx" --resume --preset pie-exposure --features "$U/squeezenet1.1_features.onnx" \
  --apply value --steps "${TRAIN_STEPS:-14000}" --crop 128 --batch 2 --lr 1e-4 --seed 1 --threads "$THREADS" \
  --checkpoint-every "${CHECKPOINT_EVERY:-100}"
say "part A exit $? (124 = stopped by the time box); last logged step $(tail -1 "$OUT/pie-v2.onnx.log.csv" | cut -d, -f1)"
rm -f "$OUT"/*.tmp
ls -la "$OUT" "$OUT/bench" 2>/dev/null

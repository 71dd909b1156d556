#!/usr/bin/env bash
# Builds .carry/ (git-ignored) for scripts/device-run.sh on the lent GPU machine, which has no Node:
# a stripped node and the runtime import closure of dist/ (onnxruntime-node and sharp with their
# Linux x64 libraries only), the built dist/, the SICE crops folder, the SqueezeNet feature net, the
# training checkpoint to resume and the Vulkan loader. The big binaries are xz'd once and reused
# while their source is unchanged. Run from anywhere; name `.carry` in the run tool's carry list.
#   BUILD=0       skip `npm run build` (default: build, keep the old dist/ if the build fails)
#   DIST=dir      carry this dist/ instead (e.g. out/trainpkg/dist, the running trainer's snapshot)
#   CKPT=path     checkpoint to resume (default out/train/pie-v2.onnx.checkpoint.onnx; .log.csv beside)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
C=$ROOT/.carry
NM=$ROOT/node_modules
CKPT=${CKPT:-out/train/pie-v2.onnx.checkpoint.onnx}
CSV=${CKPT%.checkpoint.onnx}.log.csv
FEATURES=${FEATURES:-/work/shared/models/squeezenet1.1_features.onnx}
SICE=${SICE:-out/sice}
NICE="nice -n 15"
mkdir -p "$C"
[ -f "$CKPT" ] || { echo "no checkpoint at $CKPT" >&2; exit 1; }

if [ "${BUILD:-1}" = 1 ]; then
  $NICE npm run build >/dev/null 2>&1 || echo "warning: npm run build failed; carrying the existing dist/" >&2
fi
DIST=${DIST:-dist}
[ -f "$DIST/cli/main.js" ] || { echo "no built CLI at $DIST/cli/main.js" >&2; exit 1; }

# xz a binary (x86 BCJ filter) unless .carry already holds it for the same source file.
xzbin() { # src dest
  local stamp; stamp="$(stat -c '%s %Y' "$1") $1"
  if [ -f "$2" ] && [ "$(cat "$2.src" 2>/dev/null)" = "$stamp" ]; then return; fi
  local tmp; tmp=$(mktemp -d)
  cp "$1" "$tmp/f"; strip --strip-unneeded "$tmp/f" 2>/dev/null || true
  $NICE xz -T1 --x86 --lzma2=preset=${XZ_PRESET:-6} -c "$tmp/f" > "$2.tmp" && mv "$2.tmp" "$2"
  rm -rf "$tmp"; echo "$stamp" > "$2.src"
}
ORT_SO=onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1
VIPS_SO=$(cd "$NM" && ls @img/sharp-libvips-linux-x64/lib/libvips-cpp.so.*)
xzbin "$(readlink -f "$(command -v node)")" "$C/node.xz"
xzbin "$NM/$ORT_SO" "$C/ort.so.xz"
xzbin "$NM/$VIPS_SO" "$C/vips.so.xz"
echo "$VIPS_SO" > "$C/vips.name"

# node_modules: the dependency closure of the runtime imports (dist/ statically imports ws, mqtt,
# prom-client too); hls.js, jsmpeg-player and blazeface are resolved lazily and not needed here.
ROOTS="onnxruntime-node sharp protobufjs commander zod yaml rxjs ws mqtt prom-client @nats-io/transport-node @nats-io/jetstream @nats-io/kv @nats-io/obj"
LIST=$(node -e '
const fs=require("fs"),path=require("path");const nm=process.argv[1];const seen=new Set();const st=process.argv.slice(2);
while(st.length){const n=st.pop();if(seen.has(n)||n.startsWith("@types/")||n==="undici-types")continue;
 const pj=path.join(nm,n,"package.json");if(!fs.existsSync(pj))continue;seen.add(n);const p=JSON.parse(fs.readFileSync(pj,"utf8"));
 for(const k of ["dependencies","optionalDependencies"])for(const d of Object.keys(p[k]??{}))st.push(d);}
console.log([...seen].sort().join(" "));' "$NM" $ROOTS)
ST=$(mktemp -d)
mkdir -p "$ST/node_modules"
for p in $LIST; do mkdir -p "$ST/node_modules/$(dirname "$p")"; cp -r "$NM/$p" "$ST/node_modules/$p"; done
( cd "$ST/node_modules"
  rm -rf onnxruntime-node/bin/napi-v6/darwin onnxruntime-node/bin/napi-v6/win32 onnxruntime-node/bin/napi-v6/linux/arm64 \
         "$ORT_SO" "$VIPS_SO" rxjs/src rxjs/dist/esm rxjs/dist/esm5 rxjs/dist/bundles rxjs/dist/types zod/src protobufjs/dist
  find . -type f \( -name '*.map' -o -name '*.ts' -o -name '*.cts' -o -name '*.mts' -o -name '*.md' \) -delete )
tar -C "$ST" -cf - node_modules | $NICE xz -T1 -9 > "$C/nm.tar.xz"
rm -rf "$ST"
echo "$LIST" | tr ' ' '\n' > "$C/nm.list"
tar -C "$(dirname "$DIST")" --exclude='*.map' --transform "s,^$(basename "$DIST"),dist," -cf - "$(basename "$DIST")" | xz -9 > "$C/dist.tar.xz"

# Data (JPEGs: no compression), feature net, checkpoint.
tar -C "$SICE" -cf "$C/sice.tar" low normal
xz -6 -c "$FEATURES" > "$C/squeezenet1.1_features.onnx.xz"; rm -f "$C/squeezenet1.1_features.onnx"
mkdir -p "$C/train"
cp "$CKPT" "$C/train/pie-v2.onnx.checkpoint.onnx"
[ -f "$CSV" ] && cp "$CSV" "$C/train/pie-v2.onnx.log.csv"
rm -f "$C/train/pie-v2.onnx.log.csv.tmp"

# Vulkan loader (Debian libvulkan1), unpacked here so the device needs no dpkg.
if [ ! -f "$C/vk.tar.xz" ]; then
  VT=$(mktemp -d)
  ( cd "$VT" && apt-get download libvulkan1 >/dev/null && dpkg-deb -x libvulkan1_*.deb x )
  tar -C "$VT/x" -cJf "$C/vk.tar.xz" .
  rm -rf "$VT"
fi

# Stamp: device-run.sh re-unpacks when the binaries or modules changed.
( cd "$C" && cat node.xz.src ort.so.xz.src vips.so.xz.src; sha1sum nm.tar.xz vk.tar.xz ) | sha1sum | cut -c1-16 > "$C/STAMP"
ls -la "$C" "$C/train"
TREE=$( (git ls-files -z; git ls-files -z --others --exclude-standard) | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1)
CARRY=$(du -cb --apparent-size "$C" | tail -1 | cut -f1)
echo "carry paths: [\".carry\"]"
echo "carry $((CARRY / 1024)) KiB + tree $((TREE / 1024)) KiB = $(((CARRY + TREE) / 1048576)) MiB (limit 64 MiB)"
echo "resumes from step $(tail -1 "$C/train/pie-v2.onnx.log.csv" | cut -d, -f1) (last logged step)"

#!/usr/bin/env bash
# Regenerates the figures of docs/quality.md: every enhancer of the comparison over real low-light
# photos, night scenes (a city at dusk, an IR frame, the dark night walk), synthetic night at three
# noise levels, normal-light photos ("do no harm") and three clips — with the published peers in
# the same run. Reads ../shared by path; writes docs/quality/ (report.md, report.json, grids).
# LIMIT (images per folder, 6) and VIDEO_SECONDS (2) keep it near 25 minutes on 2 cores; the
# saturation and noise-aware-gain ablations are measured on the tuning split (docs/quality.md).
# Then: python3 scripts/quality-tables.py docs/quality/report.json docs/quality.md updates the tables.
#   bash scripts/quality.sh [extra enhancer specs…]      e.g. "pie-v2=models/pie-v2.onnx"
set -euo pipefail
cd "$(dirname "$0")/.."
S=${SHARED:-../shared}
P=$S/models/peers
OUT=${OUT:-docs/quality}
SETS=out/quality-sets
[ -d "$S/data" ] || { echo "needs ../shared (the data and the peers): set SHARED=path" >&2; exit 2; }

# Night scenes: two city-at-dusk photos from DICM and one frame of each night clip.
rm -rf "$SETS"; mkdir -p "$SETS/night-scenes"
ln -s "$(realpath "$S/data/lowlight/dicm/28.jpg")" "$SETS/night-scenes/a-city-dusk.jpg"
ln -s "$(realpath "$S/data/lowlight/dicm/33.jpg")" "$SETS/night-scenes/b-lake-dusk.jpg"
ffmpeg -loglevel error -y -ss 10 -i "$S/data/video/ir_cctv_night_65s.mp4" -frames:v 1 "$SETS/night-scenes/c-ir-cctv.png"
ffmpeg -loglevel error -y -ss 8 -i "$S/data/video/person_walking_night_1080p.mp4" -vf scale=960:-2 -frames:v 1 "$SETS/night-scenes/d-night-walk.png"

MODEL=models/pie-base.onnx
set -x
node bin/pie-stream.js eval -o "$OUT" --scale 1/2 --seed 1 --limit ${LIMIT:-6} --video-seconds ${VIDEO_SECONDS:-2} --video-width 480 \
  --images "$S/data/lowlight/dicm" "$S/data/lowlight/lime" "$SETS/night-scenes" \
  --synthetic "$S/data/faces/face-api-js/images" \
  --noharm "$S/data/faces/face-api-js/images" \
  --video "$S/data/video/ir_cctv_night_65s.mp4" "$S/data/video/person_walking_night_1080p.mp4" "$S/data/video/campus_pedestrians_480x360.mp4" \
  --enhancer identity gamma clahe \
    "pie-base=$MODEL" \
    "pie-base-rgb=$MODEL,color=rgb" \
    "pie-base-old=$MODEL,color=rgb,exposure=model,nag=off" \
    "$@" \
    "pie-official=$P/pie-official.onnx,raw" "sci-medium=$P/sci-medium.onnx,raw" "sci-difficult=$P/sci-difficult.onnx,raw" "zero-dce=$P/zero-dce.onnx,raw"

#!/usr/bin/env bash
# Held-out fixed night cameras with no people, for `npm run bench -- false-faces --ir CLIP`: the IR
# clip is the only peopleless night video in ../shared, and the false-face rules were tuned on it.
# Each clip is one of ../shared's real low-light photographs held still for 65 s at 10 fps, with
# fresh sensor-like noise every frame (ffmpeg's noise filter, temporal) and H.264 at a low bitrate
# with periodic keyframes, so what a fixed camera adds to a still view — noise and the encoder's
# re-draws — is all that changes; the hall's light also breathes (±3% over 7 s). Two more hold
# each frame's noise until the next keyframe, as the IR clip's camera does (identical frames, then
# the whole picture re-drawn every 5 s or 2 s): the re-draws the still gate must not take for
# change (src/detect/static-scene.ts, refreshSpread). The museum's exposure steps up and down by 4%
# every 15 s, as an auto-exposure does (followLight). Nothing moves, so
# every face reported is false; a face in the picture (a statue, a poster) is false too, and the
# still gate should drop it. Usage: bash scripts/heldout-night-clips.sh [OUT_DIR] (default out/heldout).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
shared="${SHARED:-$here/../shared}/data/lowlight"
out="${1:-$here/out/heldout}"
[ -d "$shared" ] || { echo "heldout-night-clips: $shared not found: set SHARED to the shared folder" >&2; exit 1; }
command -v ffmpeg >/dev/null || { echo "heldout-night-clips: ffmpeg not found: apt-get install ffmpeg" >&2; exit 1; }
mkdir -p "$out"
# name, photo, extra filters, encoder options (keyframe interval -g in frames at 10 fps, quality -crf)
clip() {
  ffmpeg -v error -y -loop 1 -framerate 10 -i "$shared/$2" -t 65 \
    -vf "scale=1280:720:force_original_aspect_ratio=increase,crop=1280:720,format=yuv420p$3" \
    -c:v libx264 -preset veryfast $4 -pix_fmt yuv420p -r 10 "$out/$1.mp4"
  echo "$out/$1.mp4"
}
clip street lime/10.bmp ",noise=alls=12:allf=t" "-g 50 -crf 30"
clip classroom dicm/29.jpg ",noise=alls=8:allf=t" "-g 50 -crf 34"
clip hall dicm/22.jpg ",noise=alls=10:allf=t,eq=brightness='0.03*sin(2*PI*t/7)':eval=frame" "-g 100 -crf 30"
clip harbour dicm/18.jpg ",noise=alls=14:allf=t" "-g 30 -crf 32 -bf 0"
clip street-held lime/10.bmp ",noise=alls=12:allf=t,fps=0.2,fps=10" "-g 50 -crf 30"
clip museum dicm/06.jpg ",noise=alls=10:allf=t,eq=brightness='0.04*mod(floor(t/15),2)':eval=frame" "-g 50 -crf 30"
clip classroom-held dicm/29.jpg ",noise=alls=10:allf=t,fps=0.5,fps=10" "-g 20 -crf 32"

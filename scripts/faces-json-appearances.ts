// What `pie-stream detect` reported on videos, counted as the false-faces bench counts it: per
// <name>.faces.json, the frames, the reported faces, and their appearances (a reported face with no
// reported face near it, confirmFaces' `near`, in the previous detection) per 10 minutes; beside
// them the same for every detection (reported + held), which is what the CLI reported before its
// rules, and the held faces by reason. On a clip without people every appearance is a false face.
//   npx tsx scripts/faces-json-appearances.ts out/s14-cli/*.faces.json [--json FILE]
import fs from 'node:fs';
import path from 'node:path';
import type { VideoFacesJson } from '../src/cli/detect.js';
import type { FaceJson } from '../src/detect/event.js';
import { near } from '../src/pipeline/confirmFaces.js';

interface Tally { readonly faces: number; readonly appearances: number; readonly perTenMin: number; readonly framesWithFace: number; readonly at: ReadonlyArray<{ s: number; width: number; score: number }> }

function tally(frames: ReadonlyArray<readonly FaceJson[]>, fps: number): Tally {
  let faces = 0, appearances = 0, framesWithFace = 0;
  const at: Array<{ s: number; width: number; score: number }> = [];
  frames.forEach((fs, j) => {
    faces += fs.length;
    if (fs.length) framesWithFace++;
    for (const f of fs) {
      if (j > 0 && frames[j - 1]!.some((b) => near(f.box, b.box))) continue;
      appearances++;
      at.push({ s: +(j / fps).toFixed(1), width: Math.round(f.box.width), score: +f.score.toFixed(2) });
    }
  });
  const minutes = frames.length / fps / 60;
  return { faces, appearances, perTenMin: +((appearances / minutes) * 10).toFixed(1), framesWithFace, at };
}

const args = process.argv.slice(2);
const jsonAt = args.indexOf('--json');
const out = jsonAt >= 0 ? args[jsonAt + 1] : undefined;
const files = args.filter((a, i) => a.endsWith('.faces.json') && (jsonAt < 0 || i !== jsonAt + 1));
if (!files.length) throw new Error('usage: faces-json-appearances.ts FILE.faces.json… [--json OUT]');
const rows = files.map((file) => {
  const v = JSON.parse(fs.readFileSync(file, 'utf8')) as VideoFacesJson;
  if (v.kind !== 'video') throw new Error(`${file}: not a video's faces`);
  const reported = tally(v.frames.map((f) => f.faces), v.fps);
  const all = tally(v.frames.map((f) => [...f.faces, ...(f.held ?? [])]), v.fps);
  const held: Record<string, number> = {};
  for (const f of v.frames) for (const h of f.held ?? []) held[h.why] = (held[h.why] ?? 0) + 1;
  return { clip: path.basename(file, '.faces.json'), frames: v.frames.length, seconds: +(v.frames.length / v.fps).toFixed(1), reported, all, held };
});
console.log('clip | frames (s) | every detection: faces, appearances /10 min, frames with a face | reported: the same | held by reason');
for (const r of rows) {
  console.log(`${r.clip} | ${r.frames} (${r.seconds}) | ${r.all.faces}, ${r.all.appearances} = ${r.all.perTenMin}, ${r.all.framesWithFace} | ${r.reported.faces}, ${r.reported.appearances} = ${r.reported.perTenMin}, ${r.reported.framesWithFace} | ${JSON.stringify(r.held)}`);
  for (const a of r.reported.at) console.log(`    reported appearance at ${a.s} s, ${a.width} px, score ${a.score}`);
}
if (out) fs.writeFileSync(out, `${JSON.stringify({ date: new Date().toISOString(), files, rows }, null, 1)}\n`);

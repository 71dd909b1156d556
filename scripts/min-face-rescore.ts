// Re-scores a saved small-face camera eval (eval --faces --small --camera -o DIR writes
// DIR/small-faces-camera.<model>.detections.json) with a minimum detected face width (detect.minFace)
// applied to every detection and to the normal-light bound: recall / precision per size bucket.
// npx tsx scripts/min-face-rescore.ts out/sfc-s11/small-faces-camera.full-range.detections.json
import fs from 'node:fs';
import { scoreSmallFaceCamera, type CollectedSmallFaceCamera } from '../src/eval/small-face-camera.js';
import type { Face } from '../src/detect/types.js';
const file = process.argv[2]!;
const j = JSON.parse(fs.readFileSync(file, 'utf8'));
const base = { frames: j.canvases, clipFrames: j.clipFrames, detected: j.detected, normal: j.normal, levels: j.levels, kept: [] } as unknown as CollectedSmallFaceCamera;
const filt = (m: number) => (fs: Face[]) => fs.filter((f) => f.box.width >= m);
const withMin = (m: number): CollectedSmallFaceCamera => ({
  ...base,
  normal: base.normal.map(filt(m)),
  levels: base.levels.map((l) => ({ ...l, paths: Object.fromEntries(Object.entries(l.paths).map(([p, cs]) => [p, (cs as Face[][][]).map((c) => c.map(filt(m)))])) as typeof l.paths })),
});
for (const split of ['heldout', 'tune'] as const) {
  for (const m of [0, 12, 16]) {
    const r = scoreSmallFaceCamera(withMin(m), { split, fromFrame: 10 });
    const names = r.normal.map((b) => b.bucket);
    const line = (bs: typeof r.normal) => bs.map((b, i) => `${names[i]} ${b.recall.toFixed(2)}/${b.precision.toFixed(2)}`).join('  ');
    console.log(`${split} min ${m}: bound ${line(r.normal)}`);
    for (const l of r.levels) for (const row of l.rows) if (row.path === 'denoised' || row.path === 'raw') console.log(`   fw ${l.fullWell} ${row.path.padEnd(9)} ${line(row.buckets)}`);
  }
}

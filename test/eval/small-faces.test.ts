import { describe, expect, it } from 'vitest';
import type { Box } from '../../src/detect/types.js';
import type { RgbImage } from '../../src/image/types.js';
import { estimateNoise } from '../../src/detect/smooth.js';
import { collectSmallFaces, formatFuseSweep, scoreSmallFaces } from '../../src/eval/small-face-eval.js';
import { buildSmallFaceSet, faceSize, resizeArea, scoreByBucket, splitOf } from '../../src/eval/small-faces.js';
import { faceGridColumns, STILL_DEFAULT } from '../../src/cli/eval-small-faces.js';

/** A grey photo with white squares where its faces are. */
function photo(w: number, h: number, faces: readonly Box[]): RgbImage {
  const data = new Uint8Array(w * h * 3).fill(40);
  for (const f of faces) {
    for (let y = f.y; y < f.y + f.height; y++) for (let x = f.x; x < f.x + f.width; x++) data.fill(255, (y * w + x) * 3, (y * w + x) * 3 + 3);
  }
  return { width: w, height: h, data };
}

const luma = (img: RgbImage, x: number, y: number): number => img.data[(Math.floor(y) * img.width + Math.floor(x)) * 3]!;

describe('resizeArea', () => {
  it('keeps the mean light of every region it shrinks', () => {
    // 4×4 → 2×2: each output pixel is the mean of a 2×2 block.
    const img: RgbImage = { width: 4, height: 4, data: Uint8Array.from({ length: 48 }, (_, i) => (Math.floor(i / 3) % 4 < 2 ? 0 : 200)) };
    const out = resizeArea(img, 2, 2);
    expect([...out.data.filter((_, i) => i % 3 === 0)]).toEqual([0, 200, 0, 200]);
    // 3 → 2 columns: fractional weights (1, ½) and (½, 1) over values 0, 90, 180.
    const row: RgbImage = { width: 3, height: 1, data: Uint8Array.from([0, 0, 0, 90, 90, 90, 180, 180, 180]) };
    expect(resizeArea(row, 2, 1).data[0]).toBe(30);
    expect(resizeArea(row, 2, 1).data[3]).toBe(150);
  });
});

describe('buildSmallFaceSet', () => {
  const faces = [{ x: 100, y: 60, width: 80, height: 100 }, { x: 300, y: 200, width: 120, height: 120 }];
  const set = buildSmallFaceSet([{ name: 'p', image: photo(600, 400, faces), boxes: faces }], { sizes: [10, 20, 40] });
  const all = set.flatMap((f) => f.boxes.map((b) => ({ f, b })));

  it('scales each copy so its median face has the asked size', () => {
    // Median face size √(80·100) and 120 → (89.4 + 120) / 2 = 104.7; copies at 10, 20, 40 px.
    const m = (faceSize(faces[0]!) + faceSize(faces[1]!)) / 2;
    const sizes = all.map(({ b }) => faceSize(b)).sort((a, b) => a - b);
    const expected = [10, 20, 40].flatMap((s) => faces.map((f) => faceSize(f) * (s / m))).sort((a, b) => a - b);
    sizes.forEach((s, i) => expect(s).toBeCloseTo(expected[i]!, 0)); // whole-pixel photo sizes: within rounding
    expect(all).toHaveLength(6);
  });

  it('puts every box where its face landed on the canvas', () => {
    for (const { f, b } of all) {
      // The centre of each scaled box is a white face pixel; just outside the box is the grey photo or canvas.
      expect(luma(f.image, b.x + b.width / 2, b.y + b.height / 2)).toBeGreaterThan(200);
      if (b.width >= 6) expect(luma(f.image, b.x - 2, b.y + b.height / 2)).toBeLessThan(120);
      expect(b.x).toBeGreaterThanOrEqual(0);
      expect(b.x + b.width).toBeLessThanOrEqual(f.image.width);
    }
    // The 80×100 face keeps its aspect (the 120×120 one is the other box).
    for (const { b } of all.filter(({ b }) => b.width / b.height < 0.9)) expect(b.width / b.height).toBeCloseTo(0.8, 1);
  });

  it('skips photos without faces and copies that cannot fit the canvas', () => {
    expect(buildSmallFaceSet([{ name: 'none', image: photo(50, 50, []), boxes: [] }])).toEqual([]);
    const big = buildSmallFaceSet([{ name: 'p', image: photo(600, 400, faces), boxes: faces }], { sizes: [10, 400], width: 640, height: 480 });
    expect(big.flatMap((f) => f.sources)).toEqual(['p@10px']);
  });
});

describe('splitOf', () => {
  it('depends on the name alone and splits a list roughly in half', () => {
    expect(splitOf('bbt1.jpg')).toBe(splitOf('bbt1.jpg'));
    const names = Array.from({ length: 200 }, (_, i) => `photo${i}.jpg`);
    const held = names.filter((n) => splitOf(n) === 'heldout').length;
    expect(held).toBeGreaterThan(70);
    expect(held).toBeLessThan(130);
  });
});

describe('scoreByBucket', () => {
  const b = (x: number, s: number): Box => ({ x, y: 0, width: s, height: s });
  it('scores each bucket on its own faces, its matches and the false faces of its size', () => {
    const refs = [{ image: 0, box: b(0, 10) }, { image: 0, box: b(100, 20) }, { image: 0, box: b(200, 40) }];
    const dets = [
      { image: 0, box: b(0, 10), score: 0.9 }, // hits the 10 px face
      { image: 0, box: b(201, 40), score: 0.8 }, // hits the 40 px face
      { image: 0, box: b(400, 12), score: 0.7 }, // a false 12 px face
      { image: 0, box: b(500, 24), score: 0.3 }, // a false 24 px face below the operating score
    ];
    const [small, mid, large] = scoreByBucket(dets, refs);
    expect(small).toMatchObject({ bucket: '<16', references: 1, tp: 1, fp: 1, recall: 1, precision: 0.5 });
    expect(mid).toMatchObject({ bucket: '16–32', references: 1, tp: 0, fp: 0, recall: 0 });
    expect(mid!.ap50).toBe(0);
    expect(large).toMatchObject({ bucket: '>32', references: 1, tp: 1, fp: 0, recall: 1, precision: 1, ap50: 1 });
  });

  it('leaves a detection of one size matched to a face of another bucket out of both wrong buckets', () => {
    // A 17 px box on a 15 px face (IoU 0.78): a hit in <16, not a false face in 16–32.
    const [small, mid] = scoreByBucket([{ image: 0, box: { x: 0, y: 0, width: 17, height: 17 }, score: 0.9 }], [{ image: 0, box: b(1, 15) }]);
    expect(small).toMatchObject({ tp: 1, fp: 0 });
    expect(mid).toMatchObject({ tp: 0, fp: 0, references: 0 });
  });
});

describe('collectSmallFaces / scoreSmallFaces', () => {
  it('runs each path at normal light and each full well, hands every smoothing the raw frame\'s noise, and scores per split', async () => {
    const box = { x: 20, y: 20, width: 20, height: 20 };
    const frames = (['tune', 'heldout'] as const).map((split) => ({ image: photo(64, 64, [box]), boxes: [box], sources: ['p'], split }));
    // A detector that finds the face on every input.
    const finder = { detect: async (imgs: readonly RgbImage[]) => imgs.map(() => [{ box, score: 0.9, keypoints: [] }]) };
    const seen: Array<{ noise: number; enhanced: boolean }> = [];
    const enhanced = new Set<RgbImage>();
    const c = await collectSmallFaces({
      frames, fullWells: [100], seed: 1, detectors: [{ name: 'd', finder }], crossSmoothings: ['none'],
      smoothings: [{ name: 'none', prep: (img, noise) => { seen.push({ noise, enhanced: enhanced.has(img) }); return { tiles: img }; } }],
      enhancer: { name: 'e', run: async (img) => { const out = { ...img, data: img.data.map((v) => Math.min(255, v * 4)) }; enhanced.add(out); return out; } },
    });
    expect(c.levels.map((l) => l.fullWell)).toEqual([0, 100]);
    expect(c.levels[1]!.variants.map((v) => v.name)).toEqual(['d raw none', 'd enhanced none']);
    // At 100 e⁻: the raw and the enhanced frame of each image got the same σ, the raw one's.
    const dark = seen.slice(2);
    expect(dark.map((s) => s.enhanced)).toEqual([false, true, false, true]);
    expect(dark[1]!.noise).toBe(dark[0]!.noise);
    expect(dark[0]!.noise).toBeCloseTo(c.levels[1]!.noise[0]!, 9);
    expect(dark[0]!.noise).toBeGreaterThan(estimateNoise(frames[0]!.image));
    const r = scoreSmallFaces(c, { split: 'heldout' });
    expect(r).toMatchObject({ frames: 1, references: 1 });
    expect(r.levels[1]!.rows.map((x) => [x.variant, x.all.recall])).toEqual([['d raw none', 1], ['d enhanced none', 1], ['d fused none', 1]]);
  });
});

describe('scoreSmallFaces rawPair', () => {
  it('adds the faces only the second raw pass found, from its gate, as a fused row', () => {
    const b1 = { x: 0, y: 0, width: 20, height: 20 }, b2 = { x: 100, y: 0, width: 20, height: 20 };
    const frames = [{ image: photo(200, 50, []), boxes: [b1, b2], sources: [], split: 'heldout' as const }];
    const f = (box: typeof b1, score: number) => ({ box, score, keypoints: [] });
    const level = (second: number) => ({ fullWell: 100, noise: [9], variants: [
      { name: 'd raw blur', detector: 'd', kind: 'raw' as const, smoothing: 'blur', faces: [[f(b1, 0.9)]] },
      { name: 'd raw none', detector: 'd', kind: 'raw' as const, smoothing: 'none', faces: [[f(b1, 0.7), f(b2, second)]] },
    ] });
    const recallOf = (second: number, gate: number): number => {
      const c = { frames, levels: [{ fullWell: 0, noise: [0], variants: [] }, level(second)] };
      const rows = scoreSmallFaces(c, { split: 'heldout', rawPair: { first: 'blur', second: 'none', minScore: gate } }).levels[1]!.rows;
      const fused = rows.find((r) => r.kind === 'fused')!;
      expect(fused.variant).toBe(`d fused (blur + none-only from ${gate}) raw`);
      return fused.all.recall;
    };
    expect(recallOf(0.55, 0.5)).toBe(1); // b2 added: found by the unsmoothed pass only, above the gate
    expect(recallOf(0.55, 0.6)).toBe(0.5); // below the gate: the smoothed pass's b1 alone (b1 counted once)
  });
});

describe('formatFuseSweep', () => {
  it('adds an enhanced-only face under the add rule from its gate, not above it', () => {
    const b1 = { x: 0, y: 0, width: 20, height: 20 }, b2 = { x: 100, y: 0, width: 20, height: 20 };
    const frames = [{ image: photo(200, 50, []), boxes: [b1, b2], sources: [], split: 'heldout' as const }];
    const f = (box: typeof b1, score: number) => ({ box, score, keypoints: [] });
    const c = { frames, levels: [{ fullWell: 0, noise: [0], variants: [] }, { fullWell: 100, noise: [9], variants: [
      { name: 'd raw s', detector: 'd', kind: 'raw' as const, smoothing: 's', faces: [[f(b1, 0.9)]] },
      { name: 'd enhanced s', detector: 'd', kind: 'enhanced' as const, smoothing: 's', faces: [[f(b2, 0.75)]] },
    ] }] };
    const cells = formatFuseSweep(c, { split: 'heldout', detector: 'd', smoothing: 's' }).split('\n').at(-1)!.split('|').map((x) => x.trim()).filter(Boolean);
    // Full well, raw alone, enhanced alone, gates 0, 0.5, 0.6, 0.7 (the 0.75 face added: 2 hits), 0.8, 0.9 (not), blend from 0.8 (not).
    expect(cells.map((x) => x.split(' / ')[0])).toEqual(['100', '1', '1', '2', '2', '2', '2', '1', '1', '1']);
  });
});

describe('faceGridColumns', () => {
  it('shows unsmoothed, blurred and the still default at each full well the run had, the enhanced pass at 300, and raw and the default at 1000', () => {
    const cols = faceGridColumns([1000, 700, 100]).map((c) => `${c.fullWell} ${c.kind} ${c.smoothing === STILL_DEFAULT ? 'default' : c.smoothing}`);
    expect(cols).toEqual(['100 raw none', '100 raw blur ≤1', '100 raw default', '700 raw none', '700 raw blur ≤1', '700 raw default', '1000 raw none', '1000 raw default']);
    expect(faceGridColumns([300]).map((c) => `${c.fullWell} ${c.kind}`)).toEqual(['300 raw', '300 raw', '300 raw', '300 enhanced']);
  });
});

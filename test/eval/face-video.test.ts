import { describe, expect, it } from 'vitest';
import type { Box, Face } from '../../src/detect/types.js';
import type { RgbImage } from '../../src/image/types.js';
import { buildFaceClip, collectFaceVideo, darkClip, panMotion, scoreFaceVideo, stillMotion, transformBox, windowAt, zoomMotion, type FaceClip } from '../../src/eval/face-video.js';

/** A grey photo with white squares where its faces are. */
function photo(w: number, h: number, faces: readonly Box[]): RgbImage {
  const data = new Uint8Array(w * h * 3).fill(40);
  for (const f of faces) {
    for (let y = f.y; y < f.y + f.height; y++) for (let x = f.x; x < f.x + f.width; x++) data.fill(255, (y * w + x) * 3, (y * w + x) * 3 + 3);
  }
  return { width: w, height: h, data };
}

/** The bounding box of the pixels brighter than mid-grey inside `around` (the square's rendered extent). */
function brightExtent(img: RgbImage, around: Box, margin: number): Box {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (let y = Math.max(0, Math.floor(around.y - margin)); y < Math.min(img.height, Math.ceil(around.y + around.height + margin)); y++) {
    for (let x = Math.max(0, Math.floor(around.x - margin)); x < Math.min(img.width, Math.ceil(around.x + around.width + margin)); x++) {
      if (img.data[(y * img.width + x) * 3]! > 148) { x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x + 1); y1 = Math.max(y1, y + 1); }
    }
  }
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

const faces: Box[] = [{ x: 200, y: 150, width: 80, height: 100 }, { x: 600, y: 300, width: 90, height: 90 }, { x: 1000, y: 180, width: 70, height: 90 }];
const labelled = { name: 'p', image: photo(1280, 640, faces), boxes: faces };

describe('face video clips', () => {
  it('moves the window linearly from its first frame to its last', () => {
    const m = panMotion(labelled, { width: 320, height: 180, frames: 11, pxPerFrame: 3 });
    expect(windowAt(m, 0, 11)).toEqual(m.from);
    expect(windowAt(m, 10, 11).x).toBeCloseTo(m.to.x, 9);
    // 3 output px a frame: 30 px over 10 steps, in photo pixels at the window's scale.
    expect(((m.to.x - m.from.x) * 320) / m.from.width).toBeCloseTo(30, 6);
    expect(m.to.width).toBe(m.from.width);
  });

  for (const kind of ['pan', 'zoom'] as const) {
    it(`keeps every box on its face through a ${kind}`, () => {
      const motion = kind === 'pan' ? panMotion(labelled, { width: 320, height: 180, frames: 9, pxPerFrame: 4 }) : zoomMotion(labelled, { width: 320, height: 180, zoom: 1.4 });
      const clip = buildFaceClip(labelled, motion, { width: 320, height: 180, frames: 9 });
      expect(clip.frames).toHaveLength(9);
      let checked = 0;
      for (const [i, f] of clip.frames.entries()) {
        const win = windowAt(motion, i, 9);
        for (const b of f.boxes) {
          // The box is where the white square landed: its edges within a pixel of the rendered extent.
          const seen = brightExtent(f.image, b, 4);
          const inside = b.x > 1 && b.y > 1 && b.x + b.width < 319 && b.y + b.height < 179;
          if (!inside) continue;
          expect(Math.abs(seen.x - b.x)).toBeLessThanOrEqual(1);
          expect(Math.abs(seen.y - b.y)).toBeLessThanOrEqual(1);
          expect(Math.abs(seen.x + seen.width - (b.x + b.width))).toBeLessThanOrEqual(1);
          expect(Math.abs(seen.y + seen.height - (b.y + b.height))).toBeLessThanOrEqual(1);
          checked++;
        }
        // Every face of the photo is either counted, ignored (cut by the edge) or outside the window.
        const all = faces.map((b) => transformBox(b, win, 320, 180)).filter((t) => t.x + t.width > 0 && t.y + t.height > 0 && t.x < 320 && t.y < 180);
        expect(f.boxes.length + f.ignore.length).toBe(all.length);
      }
      expect(checked).toBeGreaterThan(9);
      if (kind === 'zoom') {
        // Zooming in: the faces grow by the zoom factor from the first frame to the last.
        // The middle face (90 px square in the photo) stays in view; find it by its rendered extent.
        const mid = (f: typeof clip.frames[number]): Box => f.boxes.reduce((a, b) => (Math.abs(b.x + b.width / 2 - 160) < Math.abs(a.x + a.width / 2 - 160) ? b : a));
        expect(mid(clip.frames[8]!).width / mid(clip.frames[0]!).width).toBeCloseTo(1.4, 2);
        expect(brightExtent(clip.frames[8]!.image, mid(clip.frames[8]!), 4).width / brightExtent(clip.frames[0]!.image, mid(clip.frames[0]!), 4).width).toBeCloseTo(1.4, 0);
      }
    });
  }

  it('counts a face the edge cuts neither as a miss nor its detection as a false face', () => {
    const clip: FaceClip = buildFaceClip(labelled, { kind: 'pan', from: { x: 240, y: 100, width: 640, height: 360 }, to: { x: 240, y: 100, width: 640, height: 360 } }, { width: 640, height: 360, frames: 1 });
    // Face 0 (x 200–280) is half outside the window; face 1 is inside.
    expect(clip.frames[0]!.boxes).toHaveLength(1);
    expect(clip.frames[0]!.ignore).toHaveLength(1);
    const at = (b: Box): Face => ({ score: 0.9, box: b, keypoints: [] });
    const found = [[[at(clip.frames[0]!.boxes[0]!), at(clip.frames[0]!.ignore[0]!)]]];
    const r = scoreFaceVideo([clip], { levels: [{ fullWell: 100, noise: 0, paths: { raw: found } }], kept: [] });
    expect(r.levels[0]!.rows[0]).toMatchObject({ tp: 1, fp: 0, references: 1 });
  });

  it('holds a still clip on the pan\'s first window, and scores only the clips asked for', () => {
    const pan = panMotion(labelled, { width: 160, height: 90, frames: 3 });
    const still = buildFaceClip(labelled, stillMotion(pan), { width: 160, height: 90, frames: 3 });
    const moving = buildFaceClip(labelled, pan, { width: 160, height: 90, frames: 3 });
    expect(still.frames[2]!.image.data).toEqual(still.frames[0]!.image.data);
    expect(still.frames[0]!.image.data).toEqual(moving.frames[0]!.image.data);
    expect(moving.frames[2]!.image.data).not.toEqual(moving.frames[0]!.image.data);
    const none = { levels: [{ fullWell: 100, noise: 0, paths: { raw: [[[], [], []], [[], [], []]] } }], kept: [] };
    const r = scoreFaceVideo([moving, still], none, 0.5, (c) => c.motion.kind === 'still');
    expect(r.clips.map((c) => c.name)).toEqual([still.name]);
    expect(r.references).toBe(still.frames.reduce((n, f) => n + f.boxes.length, 0));
  });

  it('darkens a clip with one exposure and fresh noise every frame', () => {
    const img: RgbImage = { width: 64, height: 36, data: new Uint8Array(64 * 36 * 3).fill(230) };
    const [a, b] = darkClip([img, img], { seed: 3, clip: 0, fullWell: 100 });
    const mean = (x: RgbImage): number => x.data.reduce((s, v) => s + v, 0) / x.data.length;
    expect(Math.abs(mean(a!) - mean(b!))).toBeLessThan(2);
    expect(Buffer.compare(Buffer.from(a!.data), Buffer.from(b!.data))).not.toBe(0);
    expect(mean(a!)).toBeLessThan(120);
    // The same exposure index gives the same light whatever the clip, with its own noise.
    const [c] = darkClip([img], { seed: 3, clip: 5, fullWell: 100, exposureIndex: 0 });
    expect(Math.abs(mean(c!) - mean(a!))).toBeLessThan(2);
    expect(Buffer.compare(Buffer.from(c!.data), Buffer.from(a!.data))).not.toBe(0);
    const [own] = darkClip([img], { seed: 3, clip: 5, fullWell: 100 });
    expect(Math.abs(mean(own!) - mean(a!))).toBeGreaterThan(5);
  });

  it('runs each path in frame order with one camera of denoiser state per clip and level', async () => {
    const clip = buildFaceClip(labelled, panMotion(labelled, { width: 160, height: 90, frames: 3 }), { width: 160, height: 90, frames: 3 });
    const seen: string[] = [];
    const c = await collectFaceVideo([clip, clip], {
      fullWells: [100, 300], seed: 1,
      // No faces: the paths' wiring and order are checked here, not their scores.
      detector: { detect: async (frames) => frames.map(() => []) },
      enhance: async (img) => img,
      denoise: async (camera, img) => { seen.push(camera); return img; },
    });
    expect(seen).toEqual(['clip0@100', 'clip0@100', 'clip0@100', 'clip1@100', 'clip1@100', 'clip1@100', 'clip0@300', 'clip0@300', 'clip0@300', 'clip1@300', 'clip1@300', 'clip1@300']);
    expect(c.levels.map((l) => l.fullWell)).toEqual([0, 100, 300]);
    expect(c.levels[1]!.paths['fused (denoised)']).toHaveLength(2);
    expect(c.levels[1]!.paths['fused (denoised)']![0]).toHaveLength(3);
  });
});

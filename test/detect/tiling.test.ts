import { describe, expect, it } from 'vitest';
import { isPieError } from '../../src/errors.js';
import { isCut, letterbox, mergeTileFaces, planTiles, tileStarts, toFrame, type Tile } from '../../src/detect/tiling.js';
import type { Face } from '../../src/detect/types.js';

const face = (x: number, y: number, w: number, h: number, score = 0.9): Face => ({
  box: { x, y, width: w, height: h }, score, keypoints: [{ x: x + w / 2, y: y + h / 2 }],
});

describe('tileStarts', () => {
  it('spreads tiles evenly, first at 0, last flush with the edge, overlapping at least as asked', () => {
    expect(tileStarts(1280, 256, 0.25)).toEqual([0, 171, 341, 512, 683, 853, 1024]);
    expect(tileStarts(720, 256, 0.25)).toEqual([0, 155, 309, 464]);
    expect(tileStarts(256, 256, 0.25)).toEqual([0]);
    expect(tileStarts(257, 256, 0.25)).toEqual([0, 1]);
    expect(tileStarts(100, 256, 0.25)).toEqual([0]);
    expect(tileStarts(1024, 256, 0)).toEqual([0, 256, 512, 768]);
    for (const [len, ov] of [[1280, 0.25], [1920, 0.5], [641, 0.1], [1081, 0.25]] as const) {
      const s = tileStarts(len, 256, ov);
      expect(s.at(-1)).toBe(len - 256);
      for (let i = 1; i < s.length; i++) expect(256 - (s[i]! - s[i - 1]!)).toBeGreaterThanOrEqual(256 * ov);
    }
  });
});

describe('planTiles', () => {
  it('1280×720, 256 tiles, 25% overlap: a 7×4 grid inside the frame plus a letterboxed whole frame', () => {
    const tiles = planTiles(1280, 720, 256, { overlap: 0.25 });
    expect(tiles).toHaveLength(29);
    const grid = tiles.filter((t) => t.kind === 'tile');
    expect(grid).toHaveLength(28);
    for (const t of grid) {
      expect(t.src.width).toBe(256);
      expect(t.src.x).toBeGreaterThanOrEqual(0);
      expect(t.src.y).toBeGreaterThanOrEqual(0);
      expect(t.src.x + t.src.width).toBeLessThanOrEqual(1280);
      expect(t.src.y + t.src.height).toBeLessThanOrEqual(720);
      expect(t.dst).toEqual({ x: 0, y: 0, width: 256, height: 256 });
    }
    expect(grid.at(-1)!.src).toEqual({ x: 1024, y: 464, width: 256, height: 256 }); // bottom-right corner, flush
    expect(tiles.at(-1)).toEqual({ kind: 'whole', src: { x: 0, y: 0, width: 1280, height: 720 }, dst: { x: 0, y: 56, width: 256, height: 144 } });
    expect(planTiles(1280, 720, 256, { wholeFrame: false })).toHaveLength(28);
  });

  it('a frame smaller than a tile is one native tile, padded, with no whole-frame pass', () => {
    expect(planTiles(200, 100, 256)).toEqual([{ kind: 'tile', src: { x: 0, y: 0, width: 200, height: 100 }, dst: { x: 0, y: 0, width: 200, height: 100 } }]);
    const strip = planTiles(600, 100, 256, { wholeFrame: false });
    expect(strip.map((t) => t.src.x)).toEqual([0, 172, 344]);
    expect(strip.every((t) => t.src.height === 100 && t.src.y === 0)).toBe(true);
  });

  it('2× upscaled tiles: the native grid plus half-size source squares filling the input, mapped back at half scale', () => {
    const tiles = planTiles(1280, 720, 192, { upscale: 2 });
    const native = planTiles(1280, 720, 192, { wholeFrame: false });
    expect(native).toHaveLength(45); // 9×5
    expect(tiles.slice(0, 45)).toEqual(native);
    const grid = tiles.slice(45).filter((t) => t.kind === 'tile');
    expect(grid).toHaveLength(180); // 18×10
    for (const t of grid) {
      expect(t.src.width).toBe(96);
      expect(t.dst).toEqual({ x: 0, y: 0, width: 192, height: 192 });
      expect(t.src.x + 96).toBeLessThanOrEqual(1280);
    }
    expect(grid.at(-1)!.src).toMatchObject({ x: 1184, y: 624 });
    expect(tiles.at(-1)!.kind).toBe('whole'); // large faces still have the letterboxed pass
    // A 20 px face at input (100, 40) of a tile at (96, 48) is 10 px in the frame at (146, 68).
    const f = toFrame({ box: { x: 100, y: 40, width: 20, height: 20 }, score: 1, keypoints: [{ x: 110, y: 50 }] }, { kind: 'tile', src: { x: 96, y: 48, width: 96, height: 96 }, dst: { x: 0, y: 0, width: 192, height: 192 } });
    expect(f.box).toEqual({ x: 146, y: 68, width: 10, height: 10 });
    expect(f.keypoints[0]).toEqual({ x: 151, y: 73 });
    // A small frame: its native tile and one upscaled, no whole-frame pass.
    expect(planTiles(80, 50, 192, { upscale: 2 })).toEqual([
      { kind: 'tile', src: { x: 0, y: 0, width: 80, height: 50 }, dst: { x: 0, y: 0, width: 80, height: 50 } },
      { kind: 'tile', src: { x: 0, y: 0, width: 80, height: 50 }, dst: { x: 0, y: 0, width: 160, height: 100 } },
    ]);
    try { planTiles(640, 480, 192, { upscale: 1.5 }); expect.unreachable(); } catch (e) {
      expect(isPieError(e, 'config')).toBe(true);
      expect((e as Error).message).toMatch(/upscale 1.5.*\n.*fix: /s);
    }
  });

  it('tiling off: the whole frame letterboxed, as MediaPipe runs it', () => {
    expect(planTiles(100, 400, 128, false)).toEqual([letterbox(100, 400, 128)]);
    expect(letterbox(100, 400, 128).dst).toEqual({ x: 48, y: 0, width: 32, height: 128 });
  });

  it('rejects empty frames and overlaps out of range with PieErrors', () => {
    for (const [w, h] of [[0, 720], [1280, 0], [Number.NaN, 5], [2.5, 4]] as const) {
      try { planTiles(w, h, 256); expect.unreachable(); } catch (e) { expect(isPieError(e, 'input')).toBe(true); }
    }
    try { planTiles(640, 480, 256, { overlap: 1 }); expect.unreachable(); } catch (e) {
      expect(isPieError(e, 'config')).toBe(true);
      expect((e as Error).message).toMatch(/fix: use an overlap/);
    }
  });
});

describe('toFrame', () => {
  it('maps native tiles by their offset and the letterbox by its scale', () => {
    const t: Tile = { kind: 'tile', src: { x: 512, y: 155, width: 256, height: 256 }, dst: { x: 0, y: 0, width: 256, height: 256 } };
    expect(toFrame(face(10, 20, 30, 40), t)).toEqual(face(522, 175, 30, 40));
    const lb = letterbox(1280, 720, 256); // scale 1/5, content at y 56
    const f = toFrame(face(100, 56, 20, 10), lb);
    expect(f.box).toEqual({ x: 500, y: 0, width: 100, height: 50 });
    expect(f.keypoints[0]).toEqual({ x: 550, y: 25 });
  });
});

describe('mergeTileFaces', () => {
  const frame = { width: 427, height: 256 };
  const [left, right] = planTiles(427, 256, 256, { wholeFrame: false }) as [Tile, Tile];

  it('plans two overlapping tiles for a 427×256 frame', () => {
    expect([left.src.x, right.src.x]).toEqual([0, 171]);
  });

  it('drops a face cut by an inner border when the other tile holds it whole and found it', () => {
    const cut = face(230, 100, 30, 40, 0.95); // reaches x 260 > 256 − margin: cut by the left tile's right border
    const whole = face(232, 98, 56, 56, 0.9);
    expect(isCut(cut.box, left, frame, 8)).toBe(true);
    expect(isCut(whole.box, right, frame, 8)).toBe(false);
    const out = mergeTileFaces([{ tile: left, faces: [cut] }, { tile: right, faces: [whole] }], frame);
    expect(out).toEqual([whole]); // not blended with the half face, though that scored higher
  });

  it('keeps a cut face when no other tile found it, and faces at the frame edge are never cut', () => {
    const cut = face(230, 100, 30, 40);
    expect(mergeTileFaces([{ tile: left, faces: [cut] }, { tile: right, faces: [] }], frame)).toEqual([cut]);
    const atEdge = face(0, 0, 40, 40); // touches the frame's left and top edges only
    expect(isCut(atEdge.box, left, frame, 8)).toBe(false);
    expect(mergeTileFaces([{ tile: left, faces: [atEdge] }], frame)).toEqual([atEdge]);
  });

  it('keeps a face larger than the overlap, cut in both tiles, and blends the halves', () => {
    const a = face(150, 50, 110, 110, 0.9), b = face(170, 52, 110, 110, 0.8); // both cross an inner border
    const out = mergeTileFaces([{ tile: left, faces: [a] }, { tile: right, faces: [b] }], frame);
    expect(out).toHaveLength(1);
    expect(out[0]!.box.x).toBeCloseTo((150 * 0.9 + 170 * 0.8) / 1.7, 9);
  });

  it('drops a large face from an upscaled tile (the native tiles find those), keeps a small one and large native ones', () => {
    const tiles = planTiles(640, 480, 256, { upscale: 2, wholeFrame: false });
    const up = tiles.find((t) => t.dst.width > t.src.width && t.src.x === 0 && t.src.y === 0)!;
    const native = tiles.find((t) => t.dst.width === t.src.width && t.src.x === 0 && t.src.y === 0)!;
    expect(up.src.width).toBe(128); // a 128-px span: faces over 40 frame px are dropped from it
    const small = face(20, 20, 39, 39, 0.8), large = face(60, 60, 41, 41, 0.9), big = face(100, 100, 60, 60, 0.9);
    const out = mergeTileFaces([{ tile: up, faces: [small, large] }, { tile: native, faces: [big] }], { width: 640, height: 480 });
    expect(out).toEqual([small, big].sort((a, b) => b.score - a.score));
    // The fraction is an option: 1 keeps every face an upscaled tile found.
    expect(mergeTileFaces([{ tile: up, faces: [small, large] }], { width: 640, height: 480 }, { upscaledMaxFace: 1 })).toHaveLength(2);
  });

  it('merges a tile face with the whole-frame pass by weighted NMS', () => {
    const lb = letterbox(427, 256, 256);
    const fromTile = face(40, 40, 50, 50, 0.9), fromWhole = face(42, 38, 52, 52, 0.7);
    const out = mergeTileFaces([{ tile: left, faces: [fromTile] }, { tile: lb, faces: [fromWhole] }], frame);
    expect(out).toHaveLength(1);
    expect(out[0]!.score).toBe(0.9);
  });
});

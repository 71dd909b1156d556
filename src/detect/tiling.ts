// Tiling a frame for a small square detector: faces on a surveillance frame are a few dozen
// pixels, which a whole-frame pass shrinks below what BlazeFace can see. Tiles at native
// resolution (one frame pixel = one model pixel) overlap so that a face cut by one tile's border
// lies whole inside a neighbour; an optional letterboxed whole-frame pass catches faces larger
// than a tile. Pure: plans, coordinate maps and the cross-tile merge.
import { PieError } from '../errors.js';
import { DEFAULT_IOU_THRESHOLD, weightedNms } from './nms.js';
import type { Box, Face } from './types.js';

export interface Tile {
  readonly kind: 'tile' | 'whole';
  /** The frame region the tile shows, in frame pixels, always inside the frame. */
  readonly src: Box;
  /** Where that region lands in the model input, in input pixels; the rest is black padding. */
  readonly dst: Box;
}

export interface TilingOptions {
  /** Minimum fraction of a tile shared with its neighbour, in [0, 0.9]. Default 0.25. */
  readonly overlap?: number;
  /** Also run the whole frame, letterboxed, when it is larger than one tile. Default true. */
  readonly wholeFrame?: boolean;
  /**
   * > 1 adds tiles of inputSize/upscale frame pixels, resampled up (bilinear) to the input, to the
   * native ones: faces too small for the model at native size reach it `upscale` times larger
   * (upscale² + 1 times the passes). The native tiles stay because a face larger than a small tile
   * is only ever cut by it; the merge drops such a cut face where a native tile holds it whole.
   * 1 (native only, the default) to 4.
   */
  readonly upscale?: number;
  /** Faces from upscaled tiles wider than this fraction of a tile's span are dropped (MergeOptions). */
  readonly upscaledMaxFace?: number;
}

export const DEFAULT_OVERLAP = 0.25;

/**
 * Start offsets of tiles of `tile` pixels along an axis of `length` pixels: the first at 0, the
 * last flush with the far edge, the rest evenly spread, each step at most tile·(1 − overlap).
 */
export function tileStarts(length: number, tile: number, overlap: number): number[] {
  if (length <= tile) return [0];
  const step = Math.max(1, Math.floor(tile * (1 - overlap)));
  const n = Math.ceil((length - tile) / step) + 1;
  return Array.from({ length: n }, (_, i) => Math.round((i * (length - tile)) / (n - 1)));
}

/** The whole frame scaled to fit the input, centred (MediaPipe's letterbox). */
export function letterbox(width: number, height: number, inputSize: number): Tile {
  const s = Math.min(inputSize / width, inputSize / height);
  const w = Math.min(inputSize, Math.max(1, Math.round(width * s)));
  const h = Math.min(inputSize, Math.max(1, Math.round(height * s)));
  return {
    kind: 'whole',
    src: { x: 0, y: 0, width, height },
    dst: { x: Math.floor((inputSize - w) / 2), y: Math.floor((inputSize - h) / 2), width: w, height: h },
  };
}

/**
 * The passes for one W×H frame. `false` runs the letterboxed whole frame alone (MediaPipe's way).
 * A frame that fits in one tile gets that one native tile: a whole-frame pass would only repeat it.
 */
export function planTiles(width: number, height: number, inputSize: number, o: TilingOptions | false = {}): Tile[] {
  if (!(width >= 1 && height >= 1 && Number.isInteger(width) && Number.isInteger(height))) {
    throw new PieError('input', `a frame of ${width}×${height} pixels cannot be tiled`, 'pass frames of at least 1×1 pixels');
  }
  if (o === false) return [letterbox(width, height, inputSize)];
  const overlap = o.overlap ?? DEFAULT_OVERLAP;
  if (!(overlap >= 0 && overlap <= 0.9)) {
    throw new PieError('config', `tile overlap ${overlap} is out of range`, 'use an overlap from 0 to 0.9 (0.25 is a good default)');
  }
  const up = o.upscale ?? 1;
  if (!(Number.isInteger(up) && up >= 1 && up <= 4)) {
    throw new PieError('config', `tile upscale ${up} is out of range`, 'use 1 (native tiles, the default) or 2 (2× upscaled tiles for faces under ~20 px; 4× the passes)');
  }
  const tiles: Tile[] = [];
  for (const k of up > 1 ? [1, up] : [1]) {
    const span = Math.floor(inputSize / k);
    const tw = Math.min(width, span), th = Math.min(height, span);
    for (const y of tileStarts(height, span, overlap)) {
      for (const x of tileStarts(width, span, overlap)) {
        tiles.push({ kind: 'tile', src: { x, y, width: tw, height: th }, dst: { x: 0, y: 0, width: tw * k, height: th * k } });
      }
    }
  }
  if ((o.wholeFrame ?? true) && (width > inputSize || height > inputSize)) tiles.push(letterbox(width, height, inputSize));
  return tiles;
}

/** Maps a face from model-input pixels of `tile` to frame pixels. */
export function toFrame(f: Face, tile: Tile): Face {
  const sx = tile.src.width / tile.dst.width, sy = tile.src.height / tile.dst.height;
  const mx = (x: number): number => tile.src.x + (x - tile.dst.x) * sx;
  const my = (y: number): number => tile.src.y + (y - tile.dst.y) * sy;
  return {
    box: { x: mx(f.box.x), y: my(f.box.y), width: f.box.width * sx, height: f.box.height * sy },
    score: f.score,
    keypoints: f.keypoints.map((p) => ({ x: mx(p.x), y: my(p.y) })),
  };
}

export interface MergeOptions {
  readonly iouThreshold?: number;
  /**
   * A box within this many pixels of (or past) a tile border that is not a frame edge counts as
   * cut by it. Default 1/32 of the tile size.
   */
  readonly edgeMargin?: number;
  /**
   * A face from an upscaled tile wider than this fraction of the tile's frame span is dropped.
   * Default UPSCALED_MAX_FACE.
   */
  readonly upscaledMaxFace?: number;
}

/**
 * Upscaled tiles are there for faces the native tiles see too small; a face wider than 5/16 of an
 * upscaled tile's span (40 frame px for back at 2×, 30 for full-range) is one a native tile sees at
 * 5/32 of its input or more, which it finds on its own. What an upscaled tile reports at that size
 * is mostly a second box inside a larger face, or foliage and buildings (measured, session 17: on 64 DICM, 9 LIME and 19 face-api-js
 * photos the cap removed 108 of the 192 boxes that 2× tiles added over native ones, and no face of the
 * small-face set, whose faces are 10–40 px).
 */
export const UPSCALED_MAX_FACE = 5 / 16;

export interface TileFaces {
  readonly tile: Tile;
  /** In frame pixels (toFrame). */
  readonly faces: readonly Face[];
}

/** Whether `b` reaches an inner border of native tile `t` (one that is not the frame's edge). */
export function isCut(b: Box, t: Tile, frame: { width: number; height: number }, margin: number): boolean {
  if (t.kind !== 'tile') return false;
  const { x, y, width, height } = t.src;
  return (x > 0 && b.x < x + margin)
    || (y > 0 && b.y < y + margin)
    || (x + width < frame.width && b.x + b.width > x + width - margin)
    || (y + height < frame.height && b.y + b.height > y + height - margin);
}

const inside = (b: Box, r: Box): boolean => b.x >= r.x && b.y >= r.y && b.x + b.width <= r.x + r.width && b.y + b.height <= r.y + r.height;

function clampBox(b: Box, w: number, h: number): Box {
  const x1 = Math.max(0, b.x), y1 = Math.max(0, b.y);
  const x2 = Math.min(w, b.x + b.width), y2 = Math.min(h, b.y + b.height);
  return { x: x1, y: y1, width: Math.max(0, x2 - x1), height: Math.max(0, y2 - y1) };
}

/** Intersection over the area of `a`: how much of `a` lies in `b`. */
function coverage(a: Box, b: Box): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  const area = a.width * a.height;
  return w > 0 && h > 0 && area > 0 ? (w * h) / area : 0;
}

/**
 * One frame's faces from all its passes: a face cut by an inner tile border is dropped when another
 * tile holds it whole and found a face there (so a half face never drags a full one's box when the
 * two are blended), and an upscaled tile's face is dropped when it is large (UPSCALED_MAX_FACE);
 * then weighted NMS over the union.
 */
export function mergeTileFaces(perTile: readonly TileFaces[], frame: { width: number; height: number }, o: MergeOptions = {}): Face[] {
  const kept: Face[] = [];
  for (const { tile, faces } of perTile) {
    const margin = o.edgeMargin ?? tile.src.width / 32; // frame pixels: the same as dst for native tiles
    const upscaled = tile.kind === 'tile' && tile.dst.width > tile.src.width;
    const maxFace = (o.upscaledMaxFace ?? UPSCALED_MAX_FACE) * Math.max(tile.src.width, tile.src.height);
    for (const f of faces) {
      if (upscaled && f.box.width > maxFace) continue;
      if (isCut(f.box, tile, frame, margin)) {
        const b = clampBox(f.box, frame.width, frame.height);
        const seenWhole = perTile.some((other) => other.tile !== tile && other.tile.kind === 'tile'
          && inside(b, other.tile.src) && !isCut(b, other.tile, frame, margin)
          && other.faces.some((g) => coverage(b, g.box) >= 0.5));
        if (seenWhole) continue;
      }
      kept.push(f);
    }
  }
  return weightedNms(kept, o.iouThreshold ?? DEFAULT_IOU_THRESHOLD);
}

// What a fixed camera knows that a photo does not: which parts of the view have not changed for a
// long time (issue 16). A real face arrives with motion; the false faces of a night camera — its
// caption, shapes in trees and a fence — sit where nothing has changed for minutes. A small
// low-resolution luma model per camera (at most MAX_GRID × MAX_GRID cells, updated at detection
// rate) keeps, per cell, when it last differed beyond the noise from its previous value or from a
// slow background; a face box fewer than half of whose cells changed in the last `afterS`
// seconds is dropped. A camera seen for the first time starts with every cell still: only what
// changes gets through (a face present at the start shows once its cells have moved). A re-draw of
// the whole picture at once (an encoder's refresh, scattered over the view) is no change. Pure:
// frames in, decisions out, no IO.
import type { RgbImage } from '../image/types.js';
import type { Box, Face } from './types.js';

/** The grid's longest side, in cells: ~160 px-wide luma, a few thousand to 25,600 numbers. */
export const MAX_GRID = 160;
/** Samples per cell side, about: a 4K frame costs about what a 720p one does (~16 samples a cell). */
const SAMPLES_PER_SIDE = 4;
/** Mean |d| over sigma of Gaussian noise: √(2/π). */
const MEAN_ABS = Math.sqrt(2 / Math.PI);
/** The camera's noise falls back with this time constant, s (it rises at once): far longer than a keyframe interval (60 s let the IR clip's caption pop through once a minute). */
const NOISE_FALL_S = 300;
/** The camera noise is taken as at most this (σ of a cell's frame-to-frame difference, levels): the IR clip measured 1.5–2. */
const MAX_NOISE = 4;
/** The view is cut into this many blocks a side to tell a re-draw of the whole picture from something arriving. */
const REFRESH_BLOCKS = 8;
/** ... a block takes part in a re-draw when more than this share of its cells changed. */
const REFRESH_BLOCK_SHARE = 0.05;
/** A changed cell is part of the body of something arriving when this share of the cells within DENSE_PX of it changed too. */
const DENSE_SHARE = 0.8;
/**
 * ... pixels each way: a window of about three of a codec's 16-px blocks a side (7×7 cells at 720p–1080p).
 * A window of half this (and the cells near a dense one marked too) let a box in the IR clip's
 * foliage through after a re-draw (looped replay 0.9 → 1.9 false faces per 10 min).
 */
const DENSE_PX = 24;
/**
 * A frame with more than `sceneCut` of its cells changed is still a re-draw when its REFRESH_BLOCKS²
 * blocks kept their mean (the median block moved by less than this many levels, the view's light
 * taken out): the grain re-drawn, the view the same. A camera that holds its noise between keyframes
 * re-draws all of it at once (a synthetic one, noise 10 at CRF 38, keyframes every 2 s: 52–57% of
 * the cells, the median block's mean by 0.25–0.40 levels); a pan moves it by 0.7 levels at 1 px on
 * that lit view, 2.5 at 4 px (a 1-px pan of the dark IR clip, 0.1, passes for a re-draw: the same view).
 */
const REDRAW_BLOCK_LEVELS = 0.5;
/** A cell's threshold sits this far above its largest recent jump. */
const PEAK_MARGIN = 1.25;
/** ... counting jumps up to this many camera thresholds (a cell's threshold is at most 2.5× the camera's). */
const PEAK_CAP = 2;
/**
 * The longest a new camera learns before marking (learnFirstS): longer than the harbour clip's first
 * keyframe (2.4 s in) and the IR clip's first re-draw (5 s); a clean camera whose noise never shows
 * reports only what arrives in dense patches for this long after it starts.
 */
export const LEARN_FIRST_S = 5;

export interface StaticSceneOptions {
  /**
   * A cell has changed when it moved more than `k` noise sigmas (of a cell's frame-to-frame
   * difference): the camera's (from the cells' lower quartile), or the cell's own where that is larger
   * (compressed video is noisier where there is texture; leaves stir). Default 6 (on the IR clip 4
   * let more keyframe noise through: 21 false faces per 10 min against 18, README).
   */
  readonly k?: number;
  /** ... and more than this many luma levels (0–255): quantised, compressed video can show no noise at all. Default 2. */
  readonly floor?: number;
  /** The time constant of a cell's own noise, s: long against a person walking through it. Default 5. */
  readonly noiseS?: number;
  /**
   * The camera's noise and each cell's largest recent jump rise at once and fall back over this
   * many seconds: longer than the encoder's keyframe interval. Default NOISE_FALL_S.
   */
  readonly noiseFallS?: number;
  /**
   * The background's time constant, s: something that arrives and stays (a person standing) differs
   * from the background, so counts as changing, until it is absorbed (about this long, more for
   * strong contrast). Default 30.
   */
  readonly backgroundS?: number;
  /** More than this fraction of the cells changing at once is a new scene (an IR switch, a cut, a pan): everything counts as just changed. Default 0.5. */
  readonly sceneCut?: number;
  /**
   * What a new camera's cells start as. 'still' (default): only what changes gets through from the
   * first frame (on the IR clip, 14.8 → 12 false faces per 10 min; a walking person present at the
   * start is reported one detection later). 'changed': nothing is dropped for afterS (the old rule).
   */
  readonly startAs?: 'still' | 'changed';
  /**
   * How the camera's noise is read from a frame's cell differences d. 'centred' (default): the lower
   * quartile of |d − median d|, so a step of the whole view (an exposure or IR-light change, a
   * loop's seam) is not read as noise; 'raw': the lower quartile of |d| (before 2026-12-05: a
   * seam lifted the estimate ~5× for minutes, blinding the gate).
   */
  readonly noiseFrom?: 'centred' | 'raw';
  /**
   * A frame whose changed cells are spread over more than this fraction of the view's REFRESH_BLOCKS²
   * blocks (each with more than REFRESH_BLOCK_SHARE of its cells changed), but fewer than `sceneCut`
   * of all cells, is a re-draw of the whole picture (a codec's periodic refresh, an IR lamp's
   * flicker), not something arriving: its jump teaches the cells' thresholds, moves the background
   * with it (what differed from the background before still does, what did not still does not) and
   * marks nothing changed but the dense patches of something arriving. 0: off. Default 0.5 (the IR
   * clip's refreshes every 5 s spread over 34–46 of 64 blocks, its other frames at most 23).
   */
  readonly refreshSpread?: number;
  /**
   * A change of the whole view's light is no change (default true): each cell's change from the
   * last frame and its difference from the background are measured from their medians over the
   * view, so a lamp that brightens, an exposure step or a cloud moves nothing, while what arrives
   * (less than half the view) still stands out. false: the raw differences (before 2026-12-05,
   * session 12: a held-out clip whose light breathes ±3% over 7 s had 10,000 of its 14,400 cells
   * marked changed for 3 s at a time).
   */
  readonly followLight?: boolean;
  /**
   * A would-be scene cut whose blocks kept their mean (REDRAW_BLOCK_LEVELS) is a re-draw too, with
   * `refreshSpread` on (default true): a camera that holds its noise between keyframes re-draws more
   * than half its cells on each, and every keyframe was a cut (a synthetic one at CRF 38, fed
   * undenoised: faces on its still view reported for good). false: a cut (before session 13).
   */
  readonly redrawCuts?: boolean;
  /**
   * Until a new camera has shown its noise (a frame whose noise, k σ, is above `floor`), for at most
   * this many seconds, its changes only teach — the camera's noise, each cell's own noise and largest
   * jump — and mark nothing but dense patches (the body of something arriving), as on a re-draw.
   * 0: off. Default LEARN_FIRST_S. A camera that holds its noise between keyframes shows none until
   * its first keyframe, and before it every touch-up of the codec passed for change (the harbour
   * clip: a box on the quay's lights marked changed at 2.0 s, reported at 2.6 and 9.8 s); a camera
   * with fresh grain every frame shows it on its second frame, and learns no longer than that.
   */
  readonly learnFirstS?: number;
}

export type SceneUpdate = 'start' | 'scene-cut' | 'same';

/** One camera's model. update() with each detected frame, in time order; then unchangedS() for its faces. */
export class StaticScene {
  private readonly k: number;
  private readonly floor: number;
  private readonly backgroundS: number;
  private readonly noiseS: number;
  private readonly noiseFallS: number;
  private readonly sceneCut: number;
  private readonly startAs: 'still' | 'changed';
  private readonly centred: boolean;
  private readonly refreshSpread: number;
  private readonly followLight: boolean;
  private readonly redrawCuts: boolean;
  private readonly learnFirstS: number;
  /** Whether the camera has shown its noise since it started (learnFirstS). */
  private shownNoise = false;
  /** Frames taken as a re-draw of the whole picture, since the start. */
  refreshes = 0;
  private width = 0;
  private height = 0;
  private cell = 1;
  private gw = 0;
  private gh = 0;
  private cur = new Float32Array(0);
  private prev = new Float32Array(0);
  private bg = new Float32Array(0);
  /** Each cell's mean absolute frame-to-frame difference (its own noise), luma levels. */
  private dev = new Float32Array(0);
  /** Each cell's largest recent frame-to-frame jump (capped), falling over NOISE_FALL_S. */
  private peak = new Float32Array(0);
  /** Seconds since t0 at which each cell last changed. */
  private changedAt = new Float32Array(0);
  private t0 = 0;
  /** Changed cells per block of the view, this frame (REFRESH_BLOCKS²). */
  private readonly blocks = new Uint32Array(REFRESH_BLOCKS * REFRESH_BLOCKS);
  /** Each block's summed change of its cells this frame, less the light's shift (blockShift). */
  private readonly blockDelta = new Float64Array(REFRESH_BLOCKS * REFRESH_BLOCKS);
  /** Frames since the start or the last scene cut. */
  private seen = 0;
  private lastMs = 0;
  /** Sigma of a cell's frame-to-frame difference, luma levels; undefined until two frames were seen. */
  private noise: number | undefined;
  /** Scratch for the cell sums. */
  private sums = new Uint32Array(0);
  private counts = new Uint16Array(0);
  /** This frame's changed cells (then, on a re-draw, those in a dense patch: denseChanges); a summed-area table. */
  private dense = new Uint8Array(0);
  private area = new Uint32Array(0);
  /** Scratch for the median. */
  private readonly hist = new Uint32Array(1024);

  constructor(o: StaticSceneOptions = {}) {
    this.k = o.k ?? 6;
    this.floor = o.floor ?? 2;
    this.backgroundS = o.backgroundS ?? 30;
    this.noiseS = o.noiseS ?? 5;
    this.noiseFallS = o.noiseFallS ?? NOISE_FALL_S;
    this.sceneCut = o.sceneCut ?? 0.5;
    this.startAs = o.startAs ?? 'still';
    this.centred = (o.noiseFrom ?? 'centred') === 'centred';
    this.refreshSpread = o.refreshSpread ?? 0.5;
    this.followLight = o.followLight ?? true;
    this.redrawCuts = o.redrawCuts ?? true;
    this.learnFirstS = o.learnFirstS ?? LEARN_FIRST_S;
  }

  /** Whether the last frame only taught (learnFirstS): the camera has not shown its noise yet, and is young. */
  get learning(): boolean { return !this.shownNoise && (this.lastMs - this.t0) / 1000 < this.learnFirstS; }

  /** The noise sigma in use (luma levels), for logs and tests. */
  get noiseSigma(): number | undefined { return this.noise; }
  /** The camera-wide change threshold in use, luma levels (a cell's own noise may raise its own). */
  get threshold(): number { return Math.max(this.floor, this.k * (this.noise ?? 0)); }
  get grid(): { readonly width: number; readonly height: number; readonly cell: number } { return { width: this.gw, height: this.gh, cell: this.cell }; }

  /** The cells the last update marked changed (1), row by row over `grid`: what the gate saw move in that frame (pictures, tests). */
  changedNow(): Uint8Array {
    const t = Math.fround((this.lastMs - this.t0) / 1000), out = new Uint8Array(this.changedAt.length);
    for (let i = 0; i < out.length; i++) out[i] = this.changedAt[i] === t ? 1 : 0;
    return out;
  }

  /** Forgets everything: the next frame starts afresh, as a new camera. */
  reset(): void { this.width = 0; }

  /** Takes the camera's frame at `ms`. 'start' (first frame, new size, or time went back): every cell as `startAs`; 'scene-cut': every cell "just changed". */
  update(img: RgbImage, ms: number): SceneUpdate {
    if (img.width !== this.width || img.height !== this.height || ms < this.lastMs) {
      this.init(img.width, img.height, ms);
      this.lumaInto(img, this.cur);
      this.prev.set(this.cur);
      this.bg.set(this.cur);
      return 'start';
    }
    const dt = (ms - this.lastMs) / 1000;
    this.lastMs = ms;
    const t = (ms - this.t0) / 1000;
    [this.prev, this.cur] = [this.cur, this.prev];
    this.lumaInto(img, this.cur);
    const n = this.cur.length, cur = this.cur, prev = this.prev, bg = this.bg;
    // The noise from this frame: the lower quartile of the cells' frame-to-frame changes, as a
    // sigma (|N(0, σ)| has its quartile at 0.3186 σ). Not the median: a frame where nearly half the
    // cells really moved (a pan that is not yet a cut) would pass for noise and blind the gate.
    // Centred on the median change first: a step of the whole view is not noise.
    const hist = this.hist;
    const binsPerLevel = 16, top = hist.length - 1;
    const shift = this.centred || this.followLight ? this.medianChange(cur, prev, binsPerLevel) : 0;
    // A change of the whole view's light (a lamp, the exposure, a cloud) is taken out of both tests:
    // the frame's change and its difference from the background count from their medians.
    const dShift = this.followLight ? shift : 0, bgShift = this.followLight ? this.medianChange(cur, bg, binsPerLevel) : 0;
    hist.fill(0);
    for (let i = 0; i < n; i++) hist[Math.min(top, Math.floor(Math.abs(cur[i]! - prev[i]! - (this.centred ? shift : 0)) * binsPerLevel))]!++;
    let seen = 0, b = 0;
    for (; b < top && seen + hist[b]! < n / 4; b++) seen += hist[b]!;
    // Capped: a first frame that is all motion (a pan as the camera starts) must not set a threshold
    // nothing can pass; a camera noisier than this only gets a gate that drops less.
    const sigmaNow = Math.min(MAX_NOISE, (b + 0.5) / binsPerLevel / 0.3186);
    if (this.noise === undefined) {
      this.noise = sigmaNow;
      this.dev.fill(sigmaNow * MEAN_ABS);
    }
    const dev = this.dev, kk = this.k, floor = this.floor, camera = this.noise;
    // A cell's threshold: k sigmas of the camera's noise or of its own (mean |d| = 0.8 σ for Gaussian noise).
    // And above the largest jump the cell made lately (a keyframe redraws text edges by more than
    // the median cell moves), capped, so a person who walked through does not blind it for long.
    const camThr = Math.max(floor, kk * camera), peak = this.peak, fall = Math.min(1, dt / this.noiseFallS);
    const thrOf = (i: number): number => Math.max(camThr, kk * dev[i]! / MEAN_ABS, PEAK_MARGIN * peak[i]!);
    let moved = 0;
    const gw = this.gw, gh = this.gh, blocks = this.blocks, blockDelta = this.blockDelta;
    if (this.dense.length !== n) { this.dense = new Uint8Array(n); this.area = new Uint32Array((gw + 1) * (gh + 1)); }
    const movedNow = this.dense;
    blocks.fill(0);
    blockDelta.fill(0);
    for (let y = 0, i = 0; y < gh; y++) {
      const row = Math.floor((y * REFRESH_BLOCKS) / gh) * REFRESH_BLOCKS;
      for (let x = 0; x < gw; x++, i++) {
        const b = row + Math.floor((x * REFRESH_BLOCKS) / gw), d = cur[i]! - prev[i]! - dShift;
        blockDelta[b]! += d;
        movedNow[i] = Math.abs(d) > thrOf(i) ? 1 : 0;
        if (movedNow[i]) { moved++; blocks[b]!++; }
      }
    }
    // A re-draw of the grain over most of the view: no cut, and the camera's noise learns nothing
    // from it (its cells' peaks do, below): a keyframe's jump read as noise would blind the gate.
    const grain = moved > this.sceneCut * n && this.refreshSpread > 0 && this.redrawCuts && this.blockShift() < REDRAW_BLOCK_LEVELS;
    if (moved > this.sceneCut * n && !grain) {
      bg.set(cur);
      this.seen = 1;
      this.changedAt.fill(t);
      // Not counted towards the noise: a cut or a pan must not raise the threshold. (A noise that
      // jumps so far that every frame is a cut leaves the gate dropping nothing: the safe side.)
      return 'scene-cut';
    }
    // Up at once, down slowly: a camera's encoder re-draws its noise on each keyframe (measured on
    // the IR clip: identical frames for 5 s, then every cell moves by up to ~4 levels), and a
    // threshold from the quiet frames between would call every keyframe a change.
    if (!grain) this.noise = sigmaNow >= this.noise ? sigmaNow : this.noise + Math.min(1, dt / this.noiseFallS) * (sigmaNow - this.noise);
    // A running mean over the frames since the start (or the last cut) until the time constants take
    // over: a background started from one noisy frame would count its noise as change for a while.
    this.seen++;
    const a = Math.min(1, Math.max(dt / this.backgroundS, 1 / this.seen)), an = Math.min(1, Math.max(dt / this.noiseS, 1 / this.seen));
    const changedAt = this.changedAt;
    const refresh = this.refreshSpread > 0 && this.spread(moved) > this.refreshSpread;
    // Any frame but a cut shows the camera's noise once k σ clears the floor: the grain of a keyframe, or fresh grain every frame.
    if (this.k * sigmaNow > this.floor) this.shownNoise = true;
    const learning = this.learning;
    // The body of what arrives during a re-draw is still marked: its cells change in dense patches, a
    // re-draw's are scattered (the IR clip's re-draws: 0–6% of the changed cells in a dense patch; the
    // night walk's person close to the camera, 30–50% of the blocks in two frames: 63–90%). Its
    // smaller parts (a face) are taken into the background with the re-draw and count once they have
    // moved on (a rigid 24-px face at 4 px a frame: 4 detections later; test/detect/static-scene.test.ts).
    const arriving = refresh || learning ? this.denseChanges() : undefined;
    if (refresh) this.refreshes++;
    for (let i = 0; i < n; i++) {
      const c = cur[i]!, d = Math.abs(c - prev[i]! - dShift), thr = thrOf(i);
      const marks = arriving === undefined || arriving[i] === 1;
      // A re-draw moves the background with the picture: a standing person still differs from it.
      // (Learning does not: what arrives then still differs from the background once it is over.)
      if (!marks && refresh) bg[i] = bg[i]! + (c - prev[i]!);
      if (marks && (d > thr || Math.abs(c - bg[i]! - bgShift) > thr)) changedAt[i] = t;
      bg[i] = bg[i]! + a * (c - bg[i]!);
      // Clipped at the threshold: a person walking through raises a cell's noise only a little; a
      // cell that is always above it (leaves, texture under compression) still learns, over several noiseS.
      dev[i] = dev[i]! + an * (Math.min(d, thr) - dev[i]!);
      const dp = Math.min(d, PEAK_CAP * camThr);
      peak[i] = dp >= peak[i]! ? dp : peak[i]! + fall * (dp - peak[i]!);
    }
    return 'same';
  }

  /**
   * How long, in seconds up to `ms`, the box has been still: the age of its cells' changes, the
   * `fraction`-th most recent (0: the most recent change of any cell in it). 0 before a first frame.
   */
  unchangedS(box: Box, ms: number, fraction = 0): number {
    if (this.width === 0) return 0;
    const s = this.cell;
    // Cells whose centre lies in the box, or at least the one under its centre (a box smaller than a cell).
    let x0 = Math.ceil(box.x / s - 0.5), x1 = Math.floor((box.x + box.width) / s - 0.5);
    let y0 = Math.ceil(box.y / s - 0.5), y1 = Math.floor((box.y + box.height) / s - 0.5);
    if (x1 < x0) x0 = x1 = Math.floor((box.x + box.width / 2) / s);
    if (y1 < y0) y0 = y1 = Math.floor((box.y + box.height / 2) / s);
    x0 = Math.max(0, x0); y0 = Math.max(0, y0); x1 = Math.min(this.gw - 1, x1); y1 = Math.min(this.gh - 1, y1);
    if (x1 < x0 || y1 < y0) return 0; // off the frame: nothing known
    const t = (ms - this.t0) / 1000;
    const ages: number[] = [];
    for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) ages.push(t - this.changedAt[y * this.gw + x]!);
    ages.sort((p, q) => p - q);
    return Math.max(0, ages[Math.min(ages.length - 1, Math.floor(fraction * ages.length))]!);
  }

  /**
   * Of the cells update() found changed beyond their threshold (`dense`), those most of whose
   * neighbours within DENSE_PX changed too (1): the body of something arriving. A summed-area table.
   */
  private denseChanges(): Uint8Array {
    const { gw, gh } = this, moved = this.dense, R = Math.max(1, Math.round(DENSE_PX / this.cell));
    this.sumArea(moved);
    // In place: the table holds the changes, so later windows still count the cells cleared here.
    for (let y = 0; y < gh; y++) for (let x = 0; x < gw; x++) {
      const i = y * gw + x;
      if (moved[i]) moved[i] = this.windowSum(x, y, R) >= DENSE_SHARE * this.windowCells(x, y, R) ? 1 : 0;
    }
    return moved;
  }

  /** area[(y + 1)(gw + 1) + x + 1] = the sum of `v` over rows ≤ y, columns ≤ x. */
  private sumArea(v: Uint8Array): void {
    const { gw, gh, area } = this, W = gw + 1;
    for (let y = 0; y < gh; y++) {
      let row = 0;
      for (let x = 0; x < gw; x++) {
        row += v[y * gw + x]!;
        area[(y + 1) * W + x + 1] = area[y * W + x + 1]! + row;
      }
    }
  }

  /** The summed values within R cells of (x, y), clipped to the grid (after sumArea). */
  private windowSum(x: number, y: number, R: number): number {
    const W = this.gw + 1, a = this.area;
    const x0 = Math.max(0, x - R), x1 = Math.min(this.gw, x + R + 1), y0 = Math.max(0, y - R), y1 = Math.min(this.gh, y + R + 1);
    return a[y1 * W + x1]! - a[y0 * W + x1]! - a[y1 * W + x0]! + a[y0 * W + x0]!;
  }

  private windowCells(x: number, y: number, R: number): number {
    return (Math.min(this.gw, x + R + 1) - Math.max(0, x - R)) * (Math.min(this.gh, y + R + 1) - Math.max(0, y - R));
  }

  /** A block's cell count, from its row and column bounds (blocks differ by a cell at most; 0 on a grid narrower than REFRESH_BLOCKS). */
  private blockCells(b: number): number {
    const bx = b % REFRESH_BLOCKS, by = (b - bx) / REFRESH_BLOCKS;
    const w = Math.ceil(((bx + 1) * this.gw) / REFRESH_BLOCKS) - Math.ceil((bx * this.gw) / REFRESH_BLOCKS);
    const h = Math.ceil(((by + 1) * this.gh) / REFRESH_BLOCKS) - Math.ceil((by * this.gh) / REFRESH_BLOCKS);
    return w * h;
  }

  /** The median over the view's blocks of |their cells' mean change| (levels, less the light's shift; `blockDelta` filled by update). */
  private blockShift(): number {
    const m: number[] = [];
    for (let b = 0; b < this.blockDelta.length; b++) {
      const cells = this.blockCells(b);
      if (cells) m.push(Math.abs(this.blockDelta[b]! / cells));
    }
    m.sort((p, q) => p - q);
    return m.length ? m[m.length >> 1]! : Infinity;
  }

  /** The fraction of the view's blocks in which more than REFRESH_BLOCK_SHARE of the cells changed (`blocks` filled by update). */
  private spread(moved: number): number {
    if (moved === 0) return 0;
    let wide = 0, any = 0;
    for (let b = 0; b < this.blocks.length; b++) {
      const cells = this.blockCells(b);
      if (!cells) continue;
      any++;
      if (this.blocks[b]! > REFRESH_BLOCK_SHARE * cells) wide++;
    }
    return any > 0 ? wide / any : 0;
  }

  /** The median of cur − prev, to 1/bins of a level (±32 levels; beyond is a cut anyway), by a histogram. */
  private medianChange(cur: Float32Array, prev: Float32Array, bins: number): number {
    const hist = this.hist, n = cur.length, mid = hist.length / 2, top = hist.length - 1;
    hist.fill(0);
    for (let i = 0; i < n; i++) hist[Math.max(0, Math.min(top, mid + Math.floor((cur[i]! - prev[i]!) * bins)))]!++;
    let seen = 0, b = 0;
    for (; b < top && seen + hist[b]! < n / 2; b++) seen += hist[b]!;
    return (b - mid + 0.5) / bins;
  }

  private init(width: number, height: number, ms: number): void {
    this.width = width;
    this.height = height;
    this.cell = Math.max(1, Math.ceil(Math.max(width, height) / MAX_GRID));
    this.gw = Math.ceil(width / this.cell);
    this.gh = Math.ceil(height / this.cell);
    const n = this.gw * this.gh;
    this.cur = new Float32Array(n);
    this.prev = new Float32Array(n);
    this.bg = new Float32Array(n);
    this.dev = new Float32Array(n);
    this.peak = new Float32Array(n);
    // Still since forever ('still'), or changed now ('changed').
    this.changedAt = new Float32Array(n).fill(this.startAs === 'still' ? -Infinity : 0);
    this.t0 = ms;
    this.lastMs = ms;
    this.seen = 1;
    this.noise = undefined;
    this.shownNoise = false;
  }

  /** Mean luma (BT.601 weights) per cell, from about SAMPLES_PER_SIDE² samples a cell (integer sums, a column → cell table). */
  private lumaInto(img: RgbImage, out: Float32Array): void {
    const { width: w, height: h, data } = img, s = this.cell, gw = this.gw;
    const step = Math.max(1, Math.ceil(s / SAMPLES_PER_SIDE));
    if (this.sums.length !== out.length) { this.sums = new Uint32Array(out.length); this.counts = new Uint16Array(out.length); }
    const sums = this.sums, counts = this.counts;
    sums.fill(0);
    counts.fill(0);
    const cols: number[] = [];
    for (let x = 0; x < w; x += step) cols.push(Math.floor(x / s));
    for (let y = 0; y < h; y += step) {
      const row = Math.floor(y / s) * gw;
      let p = y * w * 3;
      for (let j = 0; j < cols.length; j++, p += 3 * step) {
        const c = row + cols[j]!;
        sums[c] = sums[c]! + 77 * data[p]! + 150 * data[p + 1]! + 29 * data[p + 2]!;
        counts[c]!++;
      }
    }
    for (let i = 0; i < out.length; i++) out[i] = sums[i]! / (256 * Math.max(1, counts[i]!));
  }
}

export interface StillGateOptions extends StaticSceneOptions {
  /** A face whose box has been still this long (s) is dropped; 0 = off. */
  readonly afterS: number;
  /** The fraction of a box's cells that must have changed within afterS for it to count as moving (0: any one cell). Default DEFAULT_MOVING_FRACTION. */
  readonly fraction?: number;
  /** Cameras kept; the least recently seen is forgotten first. Default 256 (~430 kB each at 16:9, 770 kB at most). */
  readonly maxCameras?: number;
}

/**
 * A box moves when more than this fraction of its cells changed within afterS: 0.5 measured best on
 * the IR clip (a false face beside the camera's clock has a few cells on a digit that changes every
 * second); a face that arrived changed all of its cells. See README "Temporal confirmation".
 */
export const DEFAULT_MOVING_FRACTION = 0.5;

/** Per-camera StaticScenes, bounded; what the detection worker keeps between a camera's frames. */
export class StillGate {
  private readonly scenes = new Map<string, StaticScene>();
  private readonly maxCameras: number;
  /** Faces dropped as still, in all. */
  dropped = 0;

  constructor(readonly o: StillGateOptions) {
    if (!(Number.isFinite(o.afterS) && o.afterS >= 0)) throw new RangeError(`StillGate: afterS ${o.afterS} is not a number ≥ 0`);
    this.maxCameras = o.maxCameras ?? 256;
  }

  /** The camera's frame at `ms` with the faces found on it → the faces not on a still part of the view. */
  filter(camera: string, frame: RgbImage, ms: number, faces: readonly Face[]): Face[] {
    return this.mark(camera, frame, ms, faces).filter((f) => !f.still);
  }

  /**
   * The same decision, every face kept, those on a still part marked `still`: the live path's
   * fixture rule (confirmFaces) learns from them (fed only the kept faces, it never saw the
   * caption sit still long enough, and the caption came back after each view change).
   */
  mark(camera: string, frame: RgbImage, ms: number, faces: readonly Face[]): Face[] {
    let scene = this.scenes.get(camera);
    if (scene) this.scenes.delete(camera); // most recently seen last
    else scene = new StaticScene(this.o);
    this.scenes.set(camera, scene);
    while (this.scenes.size > this.maxCameras) this.scenes.delete(this.scenes.keys().next().value!);
    scene.update(frame, ms);
    if (this.o.afterS === 0) return [...faces];
    return faces.map((f) => {
      if (scene.unchangedS(f.box, ms, this.o.fraction ?? DEFAULT_MOVING_FRACTION) < this.o.afterS) return f;
      this.dropped++;
      return { ...f, still: true };
    });
  }

  /** Forgets cameras (a restart, a model switch): their next frame starts afresh. */
  forget(cameras: readonly string[]): void { for (const c of cameras) this.scenes.delete(c); }
}

// The tone stage (src/enhance/tone.ts): colour truth, the scene-adaptive exposure, highlights
// that do not bloom, and IR (monochrome) output — on the shipped model and on random weights,
// whose curves are far from neutral.
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_MODEL_PATH, Enhancer } from '../../src/enhance/enhancer.js';
import { AUTO_EXPOSURE, DARK_CHROMA, EXPOSE_RIGHT, MAX_GAIN } from '../../src/enhance/tone.js';
import { clippedFraction, neutralCast, psnr } from '../../src/eval/metrics.js';
import { darken } from '../../src/eval/synthetic-night.js';
import type { RgbImage } from '../../src/image/types.js';
import type { FrameTone } from '../../src/enhance/tone-feeds.js';
import { darkImage } from '../helpers/media.js';
import { randomWeights } from './reference.js';

const lumaMean = (img: RgbImage): number => {
  let s = 0;
  for (let i = 0; i < img.data.length; i += 3) s += 0.299 * img.data[i]! + 0.587 * img.data[i + 1]! + 0.114 * img.data[i + 2]!;
  return s / (img.data.length / 3) / 255;
};

/** A textured grey scene: every pixel has R = G = B. */
function greyImage(w: number, h: number, level: number): RgbImage {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const v = Math.max(0, Math.min(255, Math.round(level + 12 * Math.sin(x / 5) + 8 * Math.cos(y / 7) + ((x * 7 + y * 13) % 9) - 4)));
    data.fill(v, (y * w + x) * 3, (y * w + x) * 3 + 3);
  }
  return { width: w, height: h, data };
}

/** A natural-ish frame with a mean near `mean`: smooth colour gradients with texture. */
function readableImage(w: number, h: number, mean: number): RgbImage {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const t = 255 * mean * (0.6 + 0.8 * (x / w)) + 10 * Math.sin((x + y) / 4);
    const i = (y * w + x) * 3;
    data[i] = Math.min(255, t * 1.1); data[i + 1] = Math.min(255, t); data[i + 2] = Math.min(255, t * 0.85 + 20 * (y / h));
  }
  return { width: w, height: h, data };
}

const isGrey = (img: RgbImage): boolean => {
  for (let i = 0; i < img.data.length; i += 3) if (img.data[i] !== img.data[i + 1] || img.data[i] !== img.data[i + 2]) return false;
  return true;
};

const open: Enhancer[] = [];
afterAll(async () => { await Promise.all(open.map((e) => e.close())); });
const enhancer = async (o: Parameters<typeof Enhancer.open>[0]): Promise<Enhancer> => {
  const e = await Enhancer.open({ threads: 1, ...o });
  open.push(e);
  return e;
};

describe('colour truth', () => {
  it('grey in gives grey out, exactly, whatever the curves, the exposure and the scale', { timeout: 60_000 }, async () => {
    for (const [weights, downscale, exposure] of [[randomWeights(3, 0.3), 1, 'auto'], [randomWeights(7, 0.3), 4, 'model'], [undefined, 2, 0.5]] as const) {
      const e = await enhancer({ ...(weights ? { weights } : { modelPath: DEFAULT_MODEL_PATH }), downscale, exposure });
      for (const level of [20, 60, 140]) {
        const out = (await e.enhance([greyImage(64, 48, level)])).frames[0]!;
        expect(isGrey(out), `level ${level}, scale 1/${downscale}, exposure ${exposure}`).toBe(true);
      }
    }
  });

  it('per-channel curves (PIE as published) tint grey; the colour-preserving form does not drift', async () => {
    const weights = randomWeights(11, 0.3);
    const img = greyImage(64, 48, 40);
    const rgb = (await (await enhancer({ weights, downscale: 1, form: 'rgb', exposure: 'model' })).enhance([img])).frames[0]!;
    const value = (await (await enhancer({ weights, downscale: 1, form: 'value', exposure: 'model' })).enhance([img])).frames[0]!;
    expect(neutralCast(img, rgb)).toBeGreaterThan(2); // the failure the value form exists for
    expect(neutralCast(img, value)).toBeLessThan(1e-3); // exactly grey: only Lab's float rounding
  });

  it('keeps the hue of coloured pixels: channel ratios survive within rounding', async () => {
    const img = darkImage(96, 64, 3);
    const out = (await (await enhancer({ modelPath: DEFAULT_MODEL_PATH, downscale: 4 })).enhance([img])).frames[0]!;
    let worst = 0;
    for (let i = 0; i < img.data.length; i += 3) {
      const [r, g] = [img.data[i]!, img.data[i + 1]!];
      if (g < 12) continue; // ratios of tiny integers are all rounding
      worst = Math.max(worst, Math.abs(out.data[i]! / Math.max(out.data[i + 1]!, 1) - r / g));
    }
    expect(worst).toBeLessThan(0.15);
  });
});

/**
 * A dark frame: the left half a near-black brown wall (V ≈ 20/255, C*ab < 6: "neutral" to the
 * cast metric), the right half a warm mid-tone (V ≈ 90/255, above DARK_CHROMA).
 */
function brownWallImage(w: number, h: number): RgbImage {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const t = ((x * 7 + y * 13) % 5) - 2;
    const i = (y * w + x) * 3;
    const [r, g, b] = x < w / 2 ? [20 + t, 12 + t, 1] : [90 + 3 * t, 70 + 3 * t, 50 + 3 * t];
    data[i] = r; data[i + 1] = g; data[i + 2] = b;
  }
  return { width: w, height: h, data };
}

describe('near-black chroma (DARK_CHROMA)', () => {
  it('lifts a near-black tinted wall without lifting its chroma, and leaves brighter colours as before', async () => {
    const img = brownWallImage(64, 48);
    const run = async (darkChroma: boolean): Promise<RgbImage> =>
      (await (await enhancer({ modelPath: DEFAULT_MODEL_PATH, downscale: 2, exposure: 0.5, darkChroma })).enhance([img])).frames[0]!;
    const [on, off] = [await run(true), await run(false)];
    const chroma = (d: Uint8Array, i: number): number => Math.max(d[i]!, d[i + 1]!, d[i + 2]!) - Math.min(d[i]!, d[i + 1]!, d[i + 2]!);
    let wall = 0, lifted = 0, chromaIn = 0, chromaOn = 0, chromaOff = 0, brightDiff = 0;
    for (let i = 0; i < img.data.length; i += 3) {
      const v = Math.max(img.data[i]!, img.data[i + 1]!, img.data[i + 2]!) / 255;
      if (v < DARK_CHROMA / 2) {
        wall++;
        lifted += on.data[i + 1]! - img.data[i + 1]!;
        chromaIn += chroma(img.data, i); chromaOn += chroma(on.data, i); chromaOff += chroma(off.data, i);
      } else if (v >= DARK_CHROMA) brightDiff = Math.max(brightDiff, ...[0, 1, 2].map((c) => Math.abs(on.data[i + c]! - off.data[i + c]!)));
    }
    expect(wall).toBeGreaterThan(1000);
    expect(lifted / wall).toBeGreaterThan(20); // the wall is lifted (G by 20+ levels on average) …
    // … its chroma grows by at most half of V/DARK_CHROMA ≤ ½ of g^¼ − 1, where it grew by g^¼ without the rule
    expect(chromaOn / chromaIn).toBeLessThan(1 + 0.5 * (chromaOff / chromaIn - 1) + 0.05);
    expect(chromaOff / chromaIn).toBeGreaterThan(1.2);
    // The cast metric sees the wall as neutral: its drift falls (not to 0: CIELAB's chroma per sRGB
    // level grows from black to mid-grey, so even an unchanged sRGB chroma drifts when lifted).
    expect(neutralCast(img, on)).toBeLessThan(0.8 * neutralCast(img, off));
    // At V ≥ DARK_CHROMA the rule does nothing (float rounding may move a byte by one).
    expect(brightDiff).toBeLessThanOrEqual(1);
  });

  it('keeps grey exactly grey, near black too', async () => {
    const e = await enhancer({ modelPath: DEFAULT_MODEL_PATH, downscale: 2, darkChroma: true });
    for (const level of [6, 20, 45]) expect(isGrey((await e.enhance([greyImage(64, 48, level)])).frames[0]!), `level ${level}`).toBe(true);
  });
});

describe('scene-adaptive exposure (the default)', () => {
  it('lifts a dark frame to the target', async () => {
    // Metered by its mean alone: exposing to the right is tested on its own below.
    const e = await enhancer({ modelPath: DEFAULT_MODEL_PATH, downscale: 4, exposeRight: false });
    const d = darkImage(96, 64, 5);
    const dark = { ...d, data: d.data.map((v) => v >> 1) };
    const r = await e.enhance([dark]);
    expect(lumaMean(dark)).toBeLessThan(AUTO_EXPOSURE.dark);
    expect(r.tone[0]!.exposure).toBeCloseTo(AUTO_EXPOSURE.target, 5);
    expect(Math.abs(lumaMean(r.frames[0]!) - AUTO_EXPOSURE.target)).toBeLessThan(0.04);
  });

  it('passes a readable frame nearly unchanged', async () => {
    const e = await enhancer({ modelPath: DEFAULT_MODEL_PATH, downscale: 4 });
    const img = readableImage(96, 64, 0.45);
    const out = (await e.enhance([img])).frames[0]!;
    expect(psnr(out, img)).toBeGreaterThan(35);
  });

  it('never blooms a lamp: no pixel that was below 255 clips', async () => {
    const e = await enhancer({ modelPath: DEFAULT_MODEL_PATH, downscale: 4 });
    const img = darkImage(96, 64, 2);
    // A lamp: a bright disc fading from 254 down to the dark background.
    for (let y = 0; y < 64; y++) for (let x = 0; x < 96; x++) {
      const d = Math.hypot(x - 30, y - 30);
      if (d < 14) img.data.fill(Math.round(254 - 9 * d), (y * 96 + x) * 3, (y * 96 + x) * 3 + 3);
    }
    const out = (await e.enhance([img])).frames[0]!;
    expect(clippedFraction(img).highlights).toBe(0);
    expect(clippedFraction(out).highlights).toBe(0);
    expect(lumaMean(out)).toBeGreaterThan(lumaMean(img) + 0.15); // and the frame was lifted
  });

  it('exposes a night scene with lights in view for the lit target, not a daytime mean', async () => {
    const e = await enhancer({ modelPath: DEFAULT_MODEL_PATH, downscale: 4 });
    const d = darkImage(96, 64, 5);
    const dark = { ...d, data: d.data.map((v) => v >> 1) };
    const lit = { ...dark, data: dark.data.slice() };
    // A lit window: 12×12 pixels at 250, 2.3% of the frame (over litFraction, at or above litLevel).
    for (let y = 20; y < 32; y++) lit.data.fill(250, (y * 96 + 40) * 3, (y * 96 + 52) * 3);
    const [plain, lamps] = (await e.enhance([dark, lit])).tone;
    // Without lights the frame has nothing above mid-grey either: at least the dark target.
    expect(plain!.exposure).toBeGreaterThanOrEqual(AUTO_EXPOSURE.target - 1e-6);
    // The lights are highlights to protect: not exposed to the right.
    expect(lamps!.exposure).toBeCloseTo(AUTO_EXPOSURE.litTarget, 2);
  });

  /** A bright scene (V from 0.45 to 0.92, mean luma ≈ 0.64) and that scene shot at 5 % of its light. */
  const brightScene = (): { scene: RgbImage; dark: RgbImage } => {
    const w = 96, h = 64, data = new Uint8Array(w * h * 3);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
      const v = 255 * (0.45 + 0.47 * (x / (w - 1))) + 6 * Math.sin(y / 3);
      data.set([Math.min(255, v), 0.95 * v, 0.9 * v], (y * w + x) * 3);
    }
    const scene = { width: w, height: h, data };
    return { scene, dark: darken(scene, { exposure: 0.05, fullWell: 1e5, readNoise: 0, seed: 1 }) };
  };

  it('exposes a frame with nothing above mid-grey to the right: a dim bright scene gets its own brightness back', async () => {
    const { scene, dark } = brightScene();
    const right = (await (await enhancer({ modelPath: DEFAULT_MODEL_PATH, downscale: 4 })).enhance([dark])).tone[0]!.exposure;
    const byMean = (await (await enhancer({ modelPath: DEFAULT_MODEL_PATH, downscale: 4, exposeRight: false })).enhance([dark])).tone[0]!.exposure;
    expect(lumaMean(scene)).toBeGreaterThan(0.6);
    expect(byMean).toBeLessThanOrEqual(AUTO_EXPOSURE.target + 1e-6); // the mean alone cannot tell it from a grey scene
    expect(Math.abs(right - lumaMean(scene))).toBeLessThan(0.05);
  });

  it('does not expose to the right a frame with highlights, and takes a flat frame no further than maxTarget', async () => {
    const e = await enhancer({ modelPath: DEFAULT_MODEL_PATH, downscale: 4 });
    const byMean = await enhancer({ modelPath: DEFAULT_MODEL_PATH, downscale: 4, exposeRight: false });
    // A readable, hazy frame (grey 0.3 to 0.58, a fifth of it at 0.5 or more): its top is far from
    // white, but it has highlights, so it keeps its own mean instead of being stretched to the right.
    const hazy = greyImage(96, 64, 0);
    for (let i = 0; i < hazy.data.length; i += 3) hazy.data.fill(Math.round(77 + 70 * ((i / 3) % 96) / 95), i, i + 3);
    const flat = { width: 96, height: 64, data: new Uint8Array(96 * 64 * 3).fill(40) };
    const [hazyT, flatT] = (await e.enhance([hazy, flat])).tone;
    expect(hazyT!.exposure).toBeCloseTo((await byMean.enhance([hazy])).tone[0]!.exposure, 5);
    expect(hazyT!.exposure).toBeCloseTo(lumaMean(hazy), 2);
    expect(flatT!.exposure).toBeCloseTo(EXPOSE_RIGHT.maxTarget, 5);
  });

  it('multiplies no pixel by more than MAX_GAIN', async () => {
    const e = await enhancer({ modelPath: DEFAULT_MODEL_PATH, downscale: 2, noiseAwareGain: false });
    const img = darkImage(96, 64, 3);
    for (let i = 0; i < img.data.length; i += 3) if ((i / 3) % 7 === 0) img.data.fill(2, i, i + 3); // near-black pixels
    const out = (await e.enhance([img])).frames[0]!;
    const value = (m: RgbImage, i: number): number => Math.max(m.data[i]!, m.data[i + 1]!, m.data[i + 2]!);
    let worst = 0;
    for (let i = 0; i < img.data.length; i += 3) worst = Math.max(worst, value(out, i) - MAX_GAIN * value(img, i));
    expect(worst).toBeLessThanOrEqual(1); // rounding
    expect(lumaMean(out)).toBeGreaterThan(lumaMean(img) * 3); // and the frame was lifted
  });

  it('smooths the target over a camera\'s frames: a carried state moves only part of the way', async () => {
    const e = await enhancer({ modelPath: DEFAULT_MODEL_PATH, downscale: 4 });
    const dark = darkImage(96, 64, 5);
    const fresh = (await e.enhance([dark])).tone[0]!.exposure;
    const carried = (await e.enhance([dark], [{ exposureState: 0.3 }])).tone[0]!.exposure;
    expect(carried).toBeCloseTo(0.3 + AUTO_EXPOSURE.smoothing * (fresh - 0.3), 5);
  });

  it('holds a camera\'s target through noise on a still scene, and still follows a real change', async () => {
    const e = await enhancer({ modelPath: DEFAULT_MODEL_PATH, downscale: 4 });
    // An IR-like still scene between `dark` and `readable` (its target follows its own mean), fresh noise (±1 code) each frame.
    let seed = 7;
    const noisy = (level: number): RgbImage => {
      const img = greyImage(96, 64, level);
      for (let i = 0; i < img.data.length; i += 3) {
        seed = (seed * 1103515245 + 12345) >>> 0;
        img.data.fill(Math.max(0, Math.min(255, img.data[i]! + (seed % 3) - 1)), i, i + 3);
      }
      return img;
    };
    const run = async (levels: readonly number[]): Promise<number[]> => {
      const used: number[] = [];
      let state: number | undefined;
      for (const level of levels) {
        const t = (await e.enhance([noisy(level)], [{ mono: true, ...(state !== undefined ? { exposureState: state } : {}) }])).tone[0]!;
        used.push(t.exposure);
        state = t.exposure;
      }
      return used;
    };
    const still = await run([60, 60, 60, 60, 60, 60]);
    // Fresh metering differs frame to frame (the noise), the carried target does not.
    const fresh = await Promise.all([60, 60, 60].map(async (l) => (await e.enhance([noisy(l)], [{ mono: true }])).tone[0]!.exposure));
    expect(Math.max(...fresh) - Math.min(...fresh)).toBeGreaterThan(0);
    expect(Math.max(...fresh) - Math.min(...fresh)).toBeLessThan(AUTO_EXPOSURE.hold);
    for (const t of still) expect(t).toBe(still[0]);
    // The scene darkens by a quarter: the target moves towards the new one.
    const change = await run([60, 45, 45]);
    expect(change[1]).not.toBe(change[0]);
    expect(Math.abs(change[2]! - change[0]!)).toBeGreaterThan(AUTO_EXPOSURE.hold);
  });

  it('exposes a still scene as its last frame while the target holds: pixels that did not change keep their output', async () => {
    const e = await enhancer({ modelPath: DEFAULT_MODEL_PATH, downscale: 4 });
    // Left half byte-identical every frame, right half fresh noise (±2 codes): only the right half changes.
    let seed = 11;
    const base = greyImage(256, 64, 60);
    const frame = (): RgbImage => {
      const img = { ...base, data: Uint8Array.from(base.data) };
      for (let y = 0; y < 64; y++) for (let x = 128; x < 256; x++) {
        seed = (seed * 1103515245 + 12345) >>> 0;
        const i = (y * 256 + x) * 3;
        img.data.fill(Math.max(0, Math.min(255, img.data[i]! + (seed % 5) - 2)), i, i + 3);
      }
      return img;
    };
    const frames = Array.from({ length: 6 }, frame);
    // The left edge's output change, frame to frame (far from the noisy half: the curves there do not see it).
    const leftChange = async (carryFit: boolean): Promise<{ change: number; gammas: number[]; last: FrameTone }> => {
      let prev: RgbImage | undefined, tone: FrameTone = { mono: true }, change = 0;
      const gammas: number[] = [];
      for (const f of frames) {
        const r = await e.enhance([f], [tone]);
        const t = r.tone[0]!, out = r.frames[0]!;
        gammas.push(t.gamma);
        tone = { mono: true, exposureState: t.exposure, ...(carryFit ? { fitState: { strength: t.strength, gamma: t.gamma } } : {}) };
        if (prev) for (let y = 0; y < 64; y++) for (let x = 0; x < 32; x++) change += Math.abs(out.data[(y * 256 + x) * 3]! - prev.data[(y * 256 + x) * 3]!);
        prev = out;
      }
      return { change, gammas, last: tone };
    };
    const refit = await leftChange(false), carried = await leftChange(true);
    expect(new Set(refit.gammas).size).toBeGreaterThan(1); // re-fitted every frame, the gamma moves with the noise
    expect(refit.change).toBeGreaterThan(0);
    expect(new Set(carried.gammas.slice(1)).size).toBe(1); // carried from the second frame on
    expect(carried.change).toBeLessThan(refit.change / 3);
    // A real change (the scene a third darker) meters and fits afresh.
    const darker = { ...base, data: base.data.map((v) => Math.round(v * 0.66)) };
    const t = (await e.enhance([darker], [carried.last])).tone[0]!;
    expect(t.exposure).not.toBe(carried.last.exposureState);
    expect(t.gamma).not.toBe(carried.last.fitState!.gamma);
  });
});

describe('noise-aware gain', () => {
  /** A black, noisy sky (true value 0, sensor noise clipped at black) beside a lit, textured wall. */
  function skyAndWall(w: number, h: number, edge: number): RgbImage {
    const data = new Uint8Array(w * h * 3);
    let s = 12345;
    const gauss = (): number => { // Box–Muller on a small LCG: deterministic noise
      s = (s * 1103515245 + 12345) >>> 0; const u = (s + 1) / 4294967297;
      s = (s * 1103515245 + 12345) >>> 0; const v = (s + 1) / 4294967297;
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    };
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
      const base = x < edge ? 0 : 28 + 8 * Math.sin(x / 3) * Math.cos(y / 4);
      for (let c = 0; c < 3; c++) data[(y * w + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(base + 3 * gauss())));
    }
    return { width: w, height: h, data };
  }
  /** Mean output luma of the sky in columns [x0, x1). */
  const band = (img: RgbImage, x0: number, x1: number): number => {
    let sum = 0, n = 0;
    for (let y = 0; y < img.height; y++) for (let x = x0; x < x1; x++) {
      const i = (y * img.width + x) * 3;
      sum += 0.299 * img.data[i]! + 0.587 * img.data[i + 1]! + 0.114 * img.data[i + 2]!; n++;
    }
    return sum / n;
  };

  it('keeps a black sky black up to a bright edge: no halo of lifted noise beside it', async () => {
    const img = skyAndWall(256, 96, 128);
    for (const downscale of [1, 4]) {
      const e = await enhancer({ modelPath: DEFAULT_MODEL_PATH, downscale });
      const out = (await e.enhance([img])).frames[0]!;
      const far = band(out, 0, 64), near = band(out, 118, 126), inFar = band(img, 0, 64), inNear = band(img, 118, 126);
      expect(band(out, 160, 256)).toBeGreaterThan(band(img, 160, 256) * 1.5); // the wall was lifted
      // 2–10 px from the wall, the sky is lifted no more than far away (within a level).
      expect(near - inNear, `downscale ${downscale}`).toBeLessThan(far - inFar + 1);
    }
  });
});

describe('IR (monochrome) mode', () => {
  it('gives exactly grey output from a faintly coloured IR frame, per frame in a mixed batch', async () => {
    const e = await enhancer({ modelPath: DEFAULT_MODEL_PATH, downscale: 4 });
    const ir = greyImage(64, 48, 60);
    for (let i = 0; i < ir.data.length; i += 3) ir.data[i + 2] = Math.min(255, ir.data[i + 2]! + ((i / 3) % 3)); // codec chroma noise
    const colour = darkImage(64, 48, 4);
    const r = await e.enhance([ir, colour], [{ mono: true }, { mono: false }]);
    expect(isGrey(r.frames[0]!)).toBe(true);
    expect(isGrey(r.frames[1]!)).toBe(false);
    expect(r.tone[0]!.chroma / r.tone[0]!.luma).toBeLessThan(0.05);
    expect(r.tone[1]!.chroma / r.tone[1]!.luma).toBeGreaterThan(0.1);
  });
});

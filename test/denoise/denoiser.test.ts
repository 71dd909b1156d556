import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Denoiser } from '../../src/denoise/denoiser.js';
import { darken, linearToSrgbByte, srgbByteToLinear } from '../../src/eval/synthetic-night.js';
import { psnr } from '../../src/eval/metrics.js';
import type { RgbImage } from '../../src/image/types.js';

const W = 96, H = 64;

/** Smooth shading with colour, bright enough that shot noise dominates quantisation. */
function scene(phase: number): RgbImage {
  const d = new Uint8Array(W * H * 3);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const v = 120 + 80 * Math.sin((x + phase) / 13) * Math.cos((y - phase) / 11);
      const i = (y * W + x) * 3;
      d[i] = Math.round(v); d[i + 1] = Math.round(v * 0.9); d[i + 2] = Math.round(v * 0.75);
    }
  }
  return { width: W, height: H, data: d };
}

const EXPOSURE = 0.5, FULL_WELL = 100;
const shoot = (img: RgbImage, seed: number): RgbImage => darken(img, { exposure: EXPOSURE, fullWell: FULL_WELL, readNoise: 3, seed });

/** RMS error in linear light against the noise-free dark frame, over pixels where `mask` holds. */
function linearRmse(out: RgbImage, clean: RgbImage, mask: (x: number, y: number) => boolean = () => true): number {
  let s = 0, n = 0;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      if (!mask(x, y)) continue;
      for (let c = 0; c < 3; c++) {
        const i = (y * W + x) * 3 + c;
        s += (srgbByteToLinear(out.data[i]!) - srgbByteToLinear(clean.data[i]!) * EXPOSURE) ** 2;
        n++;
      }
    }
  }
  return Math.sqrt(s / n);
}

/** Mean signed error in linear light (a ghost shows as a bias). */
function linearBias(out: RgbImage, clean: RgbImage, mask: (x: number, y: number) => boolean): number {
  let s = 0, n = 0;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      if (!mask(x, y)) continue;
      for (let c = 0; c < 3; c++) { const i = (y * W + x) * 3 + c; s += srgbByteToLinear(out.data[i]!) - srgbByteToLinear(clean.data[i]!) * EXPOSURE; n++; }
    }
  }
  return s / n;
}

describe('Denoiser (temporal)', () => {
  let temporal: Denoiser;
  beforeAll(async () => {
    // Spatial strength 0: the temporal part alone, so its √N law shows unmixed.
    temporal = await Denoiser.open({ mode: 'temporal', strength: 0, threads: 1, noiseEvery: 1 });
  });
  afterAll(async () => { await temporal.close(); });

  it('a static scene converges toward the clean frame as √N predicts', async () => {
    temporal.reset();
    const clean = scene(0);
    const err = new Map<number, number>();
    for (let k = 1; k <= 16; k++) {
      const [y] = await temporal.denoise([{ camera: 'static', image: shoot(clean, k) }]);
      // Inner pixels: the 3×3 motion pool sees fewer samples at the border.
      if ([1, 4, 16].includes(k)) err.set(k, linearRmse(y!, clean, (x, yy) => x > 0 && yy > 0 && x < W - 1 && yy < H - 1));
    }
    expect(err.get(1)! / err.get(4)!).toBeGreaterThan(2 * 0.85);
    expect(err.get(1)! / err.get(4)!).toBeLessThan(2 * 1.15);
    expect(err.get(1)! / err.get(16)!).toBeGreaterThan(4 * 0.85);
    expect(err.get(1)! / err.get(16)!).toBeLessThan(4 * 1.15);
  });

  it('a moving square leaves no trail', async () => {
    temporal.reset();
    const bg = scene(0);
    const withSquare = (x0: number): RgbImage => {
      const d = Uint8Array.from(bg.data);
      for (let y = 20; y < 44; y++) for (let x = x0; x < x0 + 16; x++) d.fill(250, (y * W + x) * 3, (y * W + x) * 3 + 3);
      return { width: W, height: H, data: d };
    };
    let last: RgbImage | undefined, input: RgbImage | undefined;
    // 8 frames of background first, so its pixels hold a long history, then the square crosses.
    for (let k = 0; k < 8; k++) await temporal.denoise([{ camera: 'cam', image: shoot(bg, 50 + k) }]);
    const xs = [4, 12, 20, 28, 36, 44, 52, 60];
    for (const [k, x0] of xs.entries()) {
      input = shoot(withSquare(x0), 100 + k);
      [last] = await temporal.denoise([{ camera: 'cam', image: input }]);
    }
    const clean = withSquare(60);
    // Where the square was (x 4–59) is background again; a ghost of the bright square would lift it
    // by ~0.3 in linear light, where the noise of one frame is ~0.05.
    const trailArea = (x: number, y: number): boolean => y >= 20 && y < 44 && x >= 4 && x < 60;
    const squareArea = (x: number, y: number): boolean => y >= 21 && y < 43 && x >= 61 && x < 75;
    expect(linearRmse(last!, clean, trailArea)).toBeLessThan(linearRmse(input!, clean, trailArea));
    expect(Math.abs(linearBias(last!, clean, trailArea))).toBeLessThan(0.01);
    // The square is where it is now, not smeared back.
    expect(linearRmse(last!, clean, squareArea)).toBeLessThan(linearRmse(input!, clean, squareArea) * 1.1);    // Something moving in a fixed view is not the view moving.
    expect(temporal.reportOf('cam')!.globalMoves).toBe(0);
  });

  it('a scene cut restarts the state: the first frame after it holds nothing of the old scene', async () => {
    temporal.reset();
    const a = scene(0), b: RgbImage = { ...a, data: a.data.map((v) => 255 - v) }; // its negative
    for (let k = 0; k < 10; k++) await temporal.denoise([{ camera: 'cut', image: shoot(a, 200 + k) }]);
    const [y] = await temporal.denoise([{ camera: 'cut', image: shoot(b, 300) }]);
    const single = linearRmse(shoot(b, 301), b);
    // Pixels where the two scenes happen to agree within the noise may keep history: a little over one frame's noise.
    expect(linearRmse(y!, b)).toBeLessThan(single * 1.25);
    expect(linearRmse(y!, a)).toBeGreaterThan(single * 1.5);
    expect(temporal.report().find((r) => r.camera === 'cut')!.sceneCuts).toBe(1);
  });

  it('keeps cameras apart inside a mixed batch: the same bytes as each camera alone', async () => {
    const a = scene(0), b = scene(40);
    const framesA = Array.from({ length: 5 }, (_, k) => shoot(a, 400 + k));
    const framesB = Array.from({ length: 5 }, (_, k) => shoot(b, 500 + k));
    temporal.reset();
    const alone: RgbImage[] = [];
    for (const f of framesA) alone.push(...(await temporal.denoise([{ camera: 'a', image: f }])));
    temporal.reset();
    const mixed: RgbImage[] = [];
    for (let k = 0; k < 5; k++) {
      const out = await temporal.denoise([{ camera: 'b', image: framesB[k]! }, { camera: 'a', image: framesA[k]! }]);
      mixed.push(out[1]!);
    }
    for (let k = 0; k < 5; k++) expect(Buffer.from(mixed[k]!.data).equals(Buffer.from(alone[k]!.data))).toBe(true);
    // And the static camera did average: its fifth frame is cleaner than its first.
    expect(linearRmse(mixed[4]!, a)).toBeLessThan(linearRmse(mixed[0]!, a) * 0.7);
  });

  it('runs one camera twice in a call in order, and forgets the least recently seen over the bound', async () => {
    const d = await Denoiser.open({ mode: 'temporal', threads: 1, maxCameras: 2 });
    try {
      const a = scene(0);
      const two = await d.denoise([{ camera: 'x', image: shoot(a, 1) }, { camera: 'x', image: shoot(a, 2) }]);
      expect(two).toHaveLength(2);
      await d.denoise([{ camera: 'y', image: shoot(a, 3) }]);
      await d.denoise([{ camera: 'z', image: shoot(a, 4) }]);
      expect(d.report().map((r) => r.camera)).toEqual(['y', 'z']);
    } finally {
      await d.close();
    }
  });
});

/** Texture a pan can be seen in: two crossing gratings and blobs, sampled at a sub-pixel offset (dx, dy) and zoom `z` about the centre. */
function textured(dx: number, dy = 0, z = 1): RgbImage {
  const d = new Uint8Array(W * H * 3);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const u = (x - W / 2) / z + W / 2 + dx, v = (y - H / 2) / z + H / 2 + dy;
      const t = 130 + 55 * Math.sin(u / 3.1 + v / 7.3) + 40 * Math.cos(u / 5.7 - v / 2.9) * Math.sin(v / 4.1);
      const i = (y * W + x) * 3;
      d[i] = Math.round(t); d[i + 1] = Math.round(t * 0.85); d[i + 2] = Math.round(t * 0.7);
    }
  }
  return { width: W, height: H, data: d };
}

describe('Denoiser: the view moves (pan, zoom)', () => {
  const inner = (m: number) => (x: number, y: number): boolean => x >= m && y >= m && x < W - m && y < H - m;
  /** A pan of `speed` px a frame for `n` frames after `still` frames held; RMSE of the last output and of its input against the clean frame. */
  async function pan(mode: 'shift' | 'reset' | 'off', speed: number, n: number, still = 6): Promise<{ out: number; input: number; moves: number }> {
    const d = await Denoiser.open({ mode: 'temporal', strength: 0, threads: 1, globalMotion: mode });
    try {
      let out: RgbImage | undefined, input: RgbImage | undefined, clean: RgbImage | undefined;
      for (let k = 0; k < still + n; k++) {
        clean = textured(Math.max(0, k - still) * speed);
        input = shoot(clean, 700 + k);
        [out] = await d.denoise([{ camera: 'ptz', image: input }]);
      }
      // Pixels the pan brought in lately (the right edge) start afresh; score the rest.
      const m = inner(Math.ceil(2 * speed) + 2);
      return { out: linearRmse(out!, clean!, m), input: linearRmse(input!, clean!, m), moves: d.reportOf('ptz')!.globalMoves };
    } finally {
      await d.close();
    }
  }

  it('a panning textured sequence leaves no smear: the output stays close to the current frame', async () => {
    const shift = await pan('shift', 1.3, 12), off = await pan('off', 1.3, 12);
    console.log(`pan 1.3: shift ${JSON.stringify(shift)} off ${JSON.stringify(off)}`);
    // Off (the per-pixel test alone) averages misaligned frames: worse than one noisy frame.
    expect(off.out).toBeGreaterThan(shift.out * 1.5);
    // Shifted, the state keeps averaging the same scene points: cleaner than the frame itself.
    expect(shift.out).toBeLessThan(shift.input * 0.75);
    expect(shift.moves).toBeGreaterThanOrEqual(10);
    expect(off.moves).toBe(0);
  });

  it('a slow pan (a third of a pixel a frame) is followed too, not smeared', async () => {
    const shift = await pan('shift', 0.35, 24), off = await pan('off', 0.35, 24);
    expect(shift.out).toBeLessThan(off.out * 0.8);
    expect(shift.out).toBeLessThan(shift.input * 0.75);
    expect(shift.moves).toBeGreaterThanOrEqual(5);
  });

  it('reset mode follows the new frame (no smear, no temporal gain) and counts the moves', async () => {
    const reset = await pan('reset', 1.3, 12);
    expect(reset.out).toBeLessThan(reset.input * 1.1);
    expect(reset.moves).toBeGreaterThanOrEqual(10);
  });

  it('a zoom moves the state with the view', async () => {
    const run = async (mode: 'shift' | 'off'): Promise<number> => {
      const d = await Denoiser.open({ mode: 'temporal', strength: 0, threads: 1, globalMotion: mode });
      try {
        let out: RgbImage | undefined, clean: RgbImage | undefined;
        for (let k = 0; k < 14; k++) {
          clean = textured(0, 0, 1 + 0.02 * Math.max(0, k - 4));
          [out] = await d.denoise([{ camera: 'zoom', image: shoot(clean, 900 + k) }]);
        }
        return linearRmse(out!, clean!, inner(4));
      } finally {
        await d.close();
      }
    };
    const shift = await run('shift'), off = await run('off');
    console.log(`zoom: rmse shift ${shift.toFixed(4)} off ${off.toFixed(4)}`);
    expect(shift).toBeLessThan(off * 0.8);
  });

  it('an object crossing a still textured view does not move the view (its tiles improve, the rest would not)', async () => {
    const d = await Denoiser.open({ mode: 'temporal', threads: 1 });
    try {
      // A night scene: a dark flat yard, a lit textured shed (top left, still), and a textured
      // figure of 28×24 (11% of the frame) crossing at 3 px a frame: the figure holds most of the texture.
      const tex = textured(0), obj = textured(37, 11), bg = { width: W, height: H, data: new Uint8Array(W * H * 3).fill(25) };
      for (let y = 0; y < 20; y++) bg.data.set(tex.data.subarray(y * W * 3, (y * W + 40) * 3), y * W * 3);
      for (let k = 0; k < 16; k++) {
        const data = Uint8Array.from(bg.data), x0 = 4 + 3 * k;
        for (let y = 20; y < 44; y++) data.set(obj.data.subarray((y * W + x0) * 3, (y * W + x0 + 28) * 3), (y * W + x0) * 3);
        await d.denoise([{ camera: 'walk', image: shoot({ width: W, height: H, data }, 1100 + k) }]);
      }
      expect(d.reportOf('walk')!.globalMoves).toBe(0);
    } finally {
      await d.close();
    }
  });

  it('a still view never moves its state (the estimate is made against the state, so jitter does not add up)', async () => {
    const d = await Denoiser.open({ mode: 'temporal', threads: 1 });
    try {
      for (let k = 0; k < 30; k++) await d.denoise([{ camera: 'still', image: shoot(textured(0), 1000 + k) }]);
      expect(d.reportOf('still')!.globalMoves).toBe(0);
    } finally {
      await d.close();
    }
  });
});

describe('black-clip correction', () => {
  it('brings the average of a dark patch, lifted by noise clipped at black, back toward its light', async () => {
    // Linear light 0.004 at full well 100 is 0.4 e⁻ under 3 e⁻ of read noise: most of it is clipping.
    const flat: RgbImage = { width: W, height: H, data: new Uint8Array(W * H * 3).fill(linearToSrgbByte(0.008)) };
    const meanLinear = (img: RgbImage): number => img.data.reduce((s, v) => s + srgbByteToLinear(v), 0) / img.data.length;
    const run = async (unclip: boolean): Promise<number> => {
      const d = await Denoiser.open({ mode: 'temporal', threads: 1, unclip });
      try {
        let last: RgbImage | undefined;
        for (let k = 0; k < 24; k++) [last] = await d.denoise([{ camera: 'dark', image: shoot(flat, 600 + k) }]);
        return meanLinear(last!);
      } finally {
        await d.close();
      }
    };
    const truth = 0.008 * EXPOSURE;
    const plain = await run(false), corrected = await run(true);
    expect(plain).toBeGreaterThan(truth * 2); // the lift the correction is for
    expect(Math.abs(corrected - truth)).toBeLessThan(Math.abs(plain - truth) * 0.7);
  });
});

describe('Denoiser (spatial, stills)', () => {
  it('cleans a noisy still by what its own noise calls for', async () => {
    const d = await Denoiser.open({ mode: 'spatial', threads: 1 });
    try {
      const clean = scene(0);
      const noisy = shoot(clean, 7);
      const [y] = await d.denoise([{ camera: 'still', image: noisy }]);
      const target = darken(clean, { exposure: EXPOSURE, fullWell: 1e9, readNoise: 0, seed: 1 });
      expect(psnr(y!, target)).toBeGreaterThan(psnr(noisy, target) + 3);
    } finally {
      await d.close();
    }
  });
});

describe('coding noise (H.264 near black)', () => {
  it('averages whole blocks that step by a code between frames, with quantisation 2; follows them without', async () => {
    // A dark still scene as a codec delivers it: no pixel noise left, but each 8×8 block's level
    // steps by −1, 0 or +1 code from frame to frame (a block's DC coded afresh). The camera's own
    // noise fit reads near zero on such frames; only the coding floor says a code is noise.
    let s = 7;
    const rand = (): number => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return s / 2 ** 32; };
    const base = (x: number, y: number): number => 6 + Math.round(10 * (x / W) + 6 * (y / H));
    const frame = (): RgbImage => {
      const step = Array.from({ length: Math.ceil(W / 8) * Math.ceil(H / 8) }, () => Math.floor(rand() * 3) - 1);
      const d = new Uint8Array(W * H * 3);
      for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) d.fill(base(x, y) + step[(y >> 3) * Math.ceil(W / 8) + (x >> 3)]!, (y * W + x) * 3, (y * W + x) * 3 + 3);
      return { width: W, height: H, data: d };
    };
    const frames = Array.from({ length: 24 }, frame);
    const diff = (a: RgbImage, b: RgbImage): number => a.data.reduce((t, v, i) => t + Math.abs(v - b.data[i]!), 0) / a.data.length;
    const flickerWith = async (quantisation: number): Promise<number> => {
      const d = await Denoiser.open({ mode: 'temporal', strength: 0, threads: 1, quantisation });
      try {
        const out: RgbImage[] = [];
        for (const f of frames) out.push((await d.denoise([{ camera: 'coded', image: f }]))[0]!);
        let t = 0;
        for (let k = 13; k < out.length; k++) t += diff(out[k]!, out[k - 1]!);
        return t / (out.length - 13);
      } finally {
        await d.close();
      }
    };
    let input = 0;
    for (let k = 13; k < frames.length; k++) input += diff(frames[k]!, frames[k - 1]!);
    input /= frames.length - 13;
    const [without, withFloor] = [await flickerWith(0), await flickerWith(2)];
    expect(without).toBeGreaterThan(0.5 * input); // without the floor most blocks read as moving
    expect(withFloor).toBeLessThan(0.25 * input);
  });
});

describe('rounding hysteresis', () => {
  it('a static pixel keeps its code while its running mean wanders within a code: steadier 8-bit output', async () => {
    // A dark still scene with fresh noise every frame: after a few frames the running means sit
    // between codes and drift by fractions of one, which plain rounding turns into code flips.
    let s = 11;
    const rand = (): number => { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; return (s + 0.5) / 2 ** 32; };
    const gauss = (): number => Math.sqrt(-2 * Math.log(rand())) * Math.cos(2 * Math.PI * rand());
    const frames = Array.from({ length: 40 }, (): RgbImage => {
      const d = new Uint8Array(W * H * 3);
      for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) for (let c = 0; c < 3; c++) d[(y * W + x) * 3 + c] = Math.max(0, Math.round(8 + 14 * (x / W) + 2 * gauss()));
      return { width: W, height: H, data: d };
    });
    const flips = async (hysteresis: number): Promise<number> => {
      const d = await Denoiser.open({ mode: 'temporal', threads: 1, hysteresis });
      try {
        const out: RgbImage[] = [];
        for (const f of frames) out.push({ ...f, data: Uint8Array.from((await d.denoise([{ camera: 'still', image: f }]))[0]!.data) });
        let n = 0;
        for (let k = 21; k < out.length; k++) out[k]!.data.forEach((v, i) => { if (v !== out[k - 1]!.data[i]) n++; });
        return n / ((out.length - 21) * W * H * 3);
      } finally {
        await d.close();
      }
    };
    const plain = await flips(0), held = await flips(1);
    console.log(`code flips a value after frame 21: ${(100 * plain).toFixed(2)}% plain rounding, ${(100 * held).toFixed(2)}% with hysteresis 1`);
    expect(plain).toBeGreaterThan(0.005); // the flips are there to remove
    expect(held).toBeLessThan(0.25 * plain);
  });
});

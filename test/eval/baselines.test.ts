import { describe, expect, it } from 'vitest';
import { clahe, gammaToMean } from '../../src/eval/baselines.js';
import { meanBrightness } from '../../src/eval/metrics.js';
import type { RgbImage } from '../../src/image/types.js';

function image(w: number, h: number, f: (x: number, y: number) => readonly [number, number, number]): RgbImage {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data.set(f(x, y).map((v) => Math.min(255, Math.max(0, Math.round(v)))), (y * w + x) * 3);
  return { width: w, height: h, data };
}

/** Mean |difference| between horizontal and vertical neighbours, all channels: local contrast. */
function localContrast(img: RgbImage): number {
  const { width: w, height: h, data: d } = img;
  let s = 0, n = 0;
  for (let y = 0; y < h - 1; y++) {
    for (let x = 0; x < w - 1; x++) {
      for (let c = 0; c < 3; c++) {
        const i = (y * w + x) * 3 + c;
        s += Math.abs(d[i]! - d[i + 3]!) + Math.abs(d[i]! - d[i + w * 3]!);
        n += 2;
      }
    }
  }
  return s / n;
}

// A night-like scene: dark, with texture and a brighter corner.
const night = image(96, 64, (x, y) => {
  const v = 8 + 20 * ((x * 7 + y * 3) % 11) / 10 + (x > 70 && y < 20 ? 60 : 0);
  return [v * 1.1, v, v * 0.8];
});

describe('gammaToMean', () => {
  it('lifts a dark image to the target mean within 0.01, with γ < 1, and reports the γ it applied', () => {
    for (const target of [0.3, 0.45, 0.6]) {
      const { image: out, gamma } = gammaToMean(night, target);
      expect(Math.abs(meanBrightness(out) - target)).toBeLessThan(0.01);
      expect(gamma).toBeLessThan(1);
      expect(out.data[0]).toBe(Math.round(255 * (night.data[0]! / 255) ** gamma));
    }
    expect(Math.abs(meanBrightness(gammaToMean(night).image) - 0.45)).toBeLessThan(0.01); // the default target
  });

  it('darkens a bright image (γ > 1) and keeps size', () => {
    const bright = image(20, 10, (x, y) => [200 + x, 180 + y, 220]);
    const { image: out, gamma } = gammaToMean(bright, 0.45);
    expect(gamma).toBeGreaterThan(1);
    expect(Math.abs(meanBrightness(out) - 0.45)).toBeLessThan(0.01);
    expect([out.width, out.height, out.data.length]).toEqual([20, 10, 600]);
  });

  it('cannot lift pure black and says so by leaving it black', () => {
    const black = image(4, 4, () => [0, 0, 0]);
    expect(meanBrightness(gammaToMean(black).image)).toBe(0);
  });
});

describe('clahe', () => {
  // Low contrast: a gentle ramp with ±6-level texture around mid-grey, tinted.
  const flatish = image(96, 64, (x, y) => {
    const v = 100 + x / 8 + ((x * 5 + y * 3) % 7) - 3;
    return [v * 1.2, v, v * 0.6];
  });

  it('raises local contrast and keeps the size', async () => {
    for (const on of ['value', 'rgb'] as const) {
      const out = await clahe(flatish, { on });
      expect([out.width, out.height, out.data.length]).toEqual([96, 64, 96 * 64 * 3]);
      expect(localContrast(out)).toBeGreaterThan(2 * localContrast(flatish));
    }
  });

  it('on V keeps each pixel\'s hue (R:G:B ratios); libvips on RGB equalises each band alone and does not', async () => {
    const ratio = (img: RgbImage, c: number): number => {
      let s = 0;
      for (let j = 0; j < img.data.length; j += 3) s += img.data[j + c]! / Math.max(1, img.data[j + 1]!);
      return s / (img.data.length / 3);
    };
    const v = await clahe(flatish), rgb = await clahe(flatish, { on: 'rgb' });
    expect(ratio(v, 0)).toBeCloseTo(ratio(flatish, 0), 1); // R/G ≈ 1.2
    expect(ratio(v, 2)).toBeCloseTo(ratio(flatish, 2), 1); // B/G ≈ 0.6
    expect(Math.abs(ratio(rgb, 2) - ratio(flatish, 2))).toBeGreaterThan(0.05); // B/G drifts: a hue shift
  });

  it("'rgb' is libvips equalising each band on its own (what the comments claim)", async () => {
    const rgb = await clahe(flatish, { on: 'rgb' });
    for (let c = 0; c < 3; c++) {
      const grey = image(96, 64, (x, y) => { const v = flatish.data[(y * 96 + x) * 3 + c]!; return [v, v, v]; });
      const alone = await clahe(grey, { on: 'rgb' });
      expect(rgb.data.filter((_, i) => i % 3 === c)).toEqual(alone.data.filter((_, i) => i % 3 === c));
    }
  });

  it('brightens dark texture, limits contrast by maxSlope, and honours the window size', async () => {
    const limited = await clahe(night, { width: 16, height: 16, maxSlope: 3 });
    const unlimited = await clahe(night, { width: 16, height: 16, maxSlope: 0 });
    const wide = await clahe(night, { width: 48, height: 48, maxSlope: 3 });
    expect(meanBrightness(limited)).toBeGreaterThan(meanBrightness(night));
    expect(localContrast(unlimited)).toBeGreaterThan(1.2 * localContrast(limited));
    expect(wide.data).not.toEqual(limited.data);
  });
});

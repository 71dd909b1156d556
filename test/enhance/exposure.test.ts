// Exposure control: a global gamma after the curves moves the output's mean brightness to the
// target, keeps the order of lightness, and costs little; bad targets are refused.
import { describe, expect, it } from 'vitest';
import { DEFAULT_MODEL_PATH, Enhancer } from '../../src/enhance/enhancer.js';
import { loe, meanBrightness } from '../../src/eval/metrics.js';
import { darkImage } from '../helpers/media.js';

describe('exposure control', () => {
  it('brings the mean to the target, darker or brighter, keeping the lightness order', async () => {
    const img = darkImage(96, 64, 3);
    const natural = await Enhancer.open({ modelPath: DEFAULT_MODEL_PATH, downscale: 4 });
    const base = (await natural.enhance([img])).frames[0]!;
    await natural.close();
    for (const target of [0.25, 0.45, 0.6]) {
      const e = await Enhancer.open({ modelPath: DEFAULT_MODEL_PATH, downscale: 4, exposure: target });
      const [a, b] = (await e.enhance([img, darkImage(96, 64, 9)])).frames;
      await e.close();
      // The mean is estimated on the 1/4 frame and gamma is not linear: close, not exact.
      expect(Math.abs(meanBrightness(a!) - target), `target ${target}`).toBeLessThan(0.03);
      expect(Math.abs(meanBrightness(b!) - target)).toBeLessThan(0.03);
      // A monotone map of the model's output: the order of lightness is the model's own.
      expect(loe(base, a!)).toBeLessThan(loe(img, base) + 5);
    }
  });

  it('refuses targets outside (0, 1) with the fix', async () => {
    await expect(Enhancer.open({ modelPath: DEFAULT_MODEL_PATH, downscale: 4, exposure: 1.5 })).rejects.toMatchObject({ kind: 'usage', fix: expect.stringMatching(/--exposure/) });
  });
});

describe('exposure control on an over-brightening model', () => {
  it('turns the curves down instead of darkening clipped highlights', async () => {
    // A mid-grey scene the shipped model would push towards white.
    const d = darkImage(96, 64, 5);
    const img = { ...d, data: d.data.map((v) => Math.min(255, v * 4)) };
    const e = await Enhancer.open({ modelPath: DEFAULT_MODEL_PATH, downscale: 4, exposure: meanBrightness(img) });
    const out = (await e.enhance([img])).frames[0]!;
    await e.close();
    // Target = the input's own mean: the strength search lands near 0, so the frame barely changes.
    // (The gamma is fitted on every 4th pixel; this synthetic pattern repeats every 8, so ±0.03.)
    expect(Math.abs(meanBrightness(out) - meanBrightness(img))).toBeLessThan(0.03);
    let maxDiff = 0;
    for (let i = 0; i < img.data.length; i++) maxDiff = Math.max(maxDiff, Math.abs(img.data[i]! - out.data[i]!));
    expect(maxDiff).toBeLessThan(40);
  });
});

import { describe, expect, it } from 'vitest';
import { estimateStillNoise, fitNoise, NoiseEstimator, noiseVariance } from '../../src/denoise/noise-model.js';
import { darken } from '../../src/eval/synthetic-night.js';
import type { RgbImage } from '../../src/image/types.js';

/** A bright scene with smooth shading from black to white and some colour: every bin gets pixels. */
function scene(w: number, h: number): RgbImage {
  const d = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const v = 255 * (x / (w - 1)) * (0.7 + 0.3 * Math.cos(y / 9));
      const i = (y * w + x) * 3;
      d[i] = Math.round(v); d[i + 1] = Math.round(v * 0.9); d[i + 2] = Math.round(v * 0.8);
    }
  }
  return { width: w, height: h, data: d };
}

describe('noise model (photon transfer)', () => {
  const clean = scene(320, 240);
  for (const [fullWell, readNoise, exposure] of [[100, 3, 0.6], [1000, 6, 0.3], [300, 2, 0.5]] as const) {
    it(`recovers gain and read noise within 10% (full well ${fullWell} e⁻, read ${readNoise} e⁻)`, () => {
      const est = new NoiseEstimator();
      for (let i = 0; i < 8; i++) est.push(darken(clean, { exposure, fullWell, readNoise, seed: 100 + i }));
      const p = est.params!;
      expect(p.gain).toBeGreaterThan(0.9 / fullWell);
      expect(p.gain).toBeLessThan(1.1 / fullWell);
      const read = Math.sqrt(p.read2) * fullWell;
      expect(read).toBeGreaterThan(0.9 * readNoise);
      expect(read).toBeLessThan(1.1 * readNoise);
    });
  }

  it('ignores a moving object: its differences are outliers, not noise', () => {
    const est = new NoiseEstimator();
    for (let i = 0; i < 8; i++) {
      const f = darken(clean, { exposure: 0.6, fullWell: 100, readNoise: 3, seed: 200 + i });
      // A 60-px bright square that moves 20 px a frame.
      for (let y = 90; y < 150; y++) for (let x = 20 * i; x < 20 * i + 60; x++) f.data.fill(230, (y * 320 + x) * 3, (y * 320 + x) * 3 + 3);
      est.push(f);
    }
    expect(est.params!.gain * 100).toBeGreaterThan(0.85);
    expect(est.params!.gain * 100).toBeLessThan(1.15);
  });

  it('reset forgets the camera, and a resolution change starts a new pair', () => {
    const est = new NoiseEstimator();
    est.push(darken(clean, { exposure: 0.6, fullWell: 100, readNoise: 3, seed: 1 }));
    expect(est.params).toBeUndefined();
    est.push(darken(clean, { exposure: 0.6, fullWell: 100, readNoise: 3, seed: 2 }));
    expect(est.params).toBeDefined();
    est.reset();
    expect(est.params).toBeUndefined();
    expect(est.samples).toBe(0);
    est.push(darken(scene(160, 120), { exposure: 0.6, fullWell: 100, readNoise: 3, seed: 3 }));
    est.push(darken(clean, { exposure: 0.6, fullWell: 100, readNoise: 3, seed: 4 }));
    expect(est.samples).toBe(0);
  });

  it('a still: the Immerkær residual gives the shot-noise slope within 20% on a smooth scene', () => {
    const p = estimateStillNoise(darken(clean, { exposure: 0.6, fullWell: 100, readNoise: 3, seed: 9 }))!;
    expect(p.gain * 100).toBeGreaterThan(0.8);
    expect(p.gain * 100).toBeLessThan(1.2);
    // More noise reads as more noise.
    const q = estimateStillNoise(darken(clean, { exposure: 0.6, fullWell: 1000, readNoise: 3, seed: 9 }))!;
    expect(noiseVariance(q, 0.2)).toBeLessThan(noiseVariance(p, 0.2) / 5);
  });

  it('fits a line through exact bins and keeps both terms non-negative', () => {
    const bins = [0.1, 0.2, 0.4].map((mu) => ({ mu, variance: 0.01 * mu + 1e-4, count: 1000 }));
    const p = fitNoise(bins)!;
    expect(p.gain).toBeCloseTo(0.01, 8);
    expect(p.read2).toBeCloseTo(1e-4, 8);
    const falling = fitNoise([0.1, 0.2, 0.4].map((mu) => ({ mu, variance: 1e-3 - 1e-3 * mu, count: 1000 })))!;
    expect(falling.gain).toBe(0);
    expect(falling.read2).toBeGreaterThan(0);
  });
});

import { describe, expect, it } from 'vitest';
import { ffmpegDenoiseSequence, scoreSequence, staticMask } from '../../src/eval/synthetic-video.js';
import type { RgbImage } from '../../src/image/types.js';

const W = 16, H = 12; // SSIM needs 11×11
const frame = (f: (x: number, y: number) => number): RgbImage => {
  const d = new Uint8Array(W * H * 3);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) d.fill(f(x, y), (y * W + x) * 3, (y * W + x) * 3 + 3);
  return { width: W, height: H, data: d };
};

describe('synthetic night video: scoring', () => {
  // A clean clip: left half still, right half changes by 40 levels every frame.
  const clean = [0, 1, 2, 3].map((k) => frame((x) => (x < 8 ? 100 : 60 + 40 * (k % 2))));

  it('calls pixels static where the clean clip stays within 2 levels', () => {
    const mask = staticMask(clean);
    expect(Array.from(mask.slice(0, W))).toEqual([...Array(8).fill(1), ...Array(8).fill(0)]);
    expect(mask.reduce((a, b) => a + b, 0) / mask.length).toBe(0.5);
  });

  it('scores static and moving pixels apart, and flicker against the clean clip', () => {
    const mask = staticMask(clean);
    // Error of 10 levels on the static half only; the moving half is exact.
    const out = clean.map((c) => ({ ...c, data: c.data.map((v, i) => (Math.floor(i / 3) % W < 8 ? v + 10 : v)) }));
    const s = scoreSequence(out, clean, mask, 5);
    expect(s.psnrStatic).toBeCloseTo(10 * Math.log10(255 ** 2 / 100), 6);
    expect(s.psnrMoving).toBe(100);
    expect(s.psnr).toBeCloseTo(10 * Math.log10(255 ** 2 / 50), 6);
    expect(s.flicker).toBeCloseTo(1, 6); // the same frame-to-frame changes as the clean clip
    expect(s.msPerFrame).toBe(5);
    const frozen = scoreSequence(clean.map(() => clean[0]!), clean, mask, 0);
    expect(frozen.flicker).toBe(0);
  });

  it('runs a sequence through a real ffmpeg video denoiser, frame for frame', async () => {
    const noisy = Array.from({ length: 12 }, (_, k) => frame((x, y) => 100 + (((x * 7 + y * 13 + k * 29) % 7) - 3)));
    const out = await ffmpegDenoiseSequence(noisy, { filter: 'tmix', frames: 5 });
    expect(out).toHaveLength(12);
    const spread = (fs: readonly RgbImage[]): number => fs.reduce((s, f) => s + f.data.reduce((t, v) => t + Math.abs(v - 100), 0), 0);
    expect(spread(out)).toBeLessThan(spread(noisy));
  });
});

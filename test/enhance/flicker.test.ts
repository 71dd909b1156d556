import { describe, expect, it } from 'vitest';
import { brightnessStd, flicker, FlickerMeter, meanAbsFrameDiff } from '../../src/enhance/flicker.js';
import type { RgbImage } from '../../src/image/types.js';

const f = (...v: number[]): RgbImage => ({ width: v.length / 3, height: 1, data: Uint8Array.from(v) });

describe('flicker', () => {
  it('is the mean absolute frame-to-frame difference of the output over that of the input', () => {
    const input = [f(10, 10, 10, 10, 10, 10), f(12, 10, 10, 10, 10, 10), f(10, 10, 10, 10, 10, 10)];
    const output = [f(50, 50, 50, 50, 50, 50), f(56, 50, 50, 50, 50, 56), f(50, 50, 50, 50, 50, 50)];
    expect(meanAbsFrameDiff(input)).toBeCloseTo(2 / 6, 10);
    expect(meanAbsFrameDiff(output)).toBeCloseTo(12 / 6, 10);
    const r = flicker(input, output);
    expect(r.flicker).toBeCloseTo(6, 10);
    expect(r.brightnessFlicker).toBeCloseTo(6, 10); // the per-frame means move by 1/3 and 2 levels
    expect(brightnessStd([f(0, 0, 0), f(2, 2, 2)])).toBe(1);
  });

  it('handles still and short videos', () => {
    expect(meanAbsFrameDiff([f(1, 2, 3)])).toBe(0);
    expect(flicker([f(1, 2, 3), f(1, 2, 3)], [f(4, 5, 6), f(4, 5, 6)]).flicker).toBe(1);
    expect(() => flicker([f(1, 2, 3)], [])).toThrow(/frames/);
  });

  it('gives the same figures streamed frame by frame', () => {
    const input = [f(10, 10, 10, 10, 10, 10), f(12, 10, 10, 10, 10, 10), f(10, 10, 10, 10, 10, 10)];
    const output = [f(50, 50, 50, 50, 50, 50), f(56, 50, 50, 50, 50, 56), f(50, 50, 50, 50, 50, 50)];
    const m = new FlickerMeter();
    input.forEach((x, i) => m.push(x, output[i]!));
    expect(m.frames).toBe(3);
    const a = m.report(), b = flicker(input, output);
    expect(a.flicker).toBeCloseTo(b.flicker, 12);
    expect(a.brightnessFlicker).toBeCloseTo(b.brightnessFlicker, 12);
  });
});

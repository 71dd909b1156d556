import { describe, expect, it } from 'vitest';
import { hsvToRgb, OPENCV_SCALAR, OPENCV_X86_AVX2, rgbToHsv } from '../../src/image/hsv.js';

const px = (...v: number[]): Uint8Array => Uint8Array.from(v);

describe('rgbToHsv (OpenCV 8-bit, H in 0..179)', () => {
  it('maps primaries, secondaries and greys as cv2.COLOR_RGB2HSV does', () => {
    const cases: [number[], number[]][] = [
      [[255, 0, 0], [0, 255, 255]],
      [[255, 255, 0], [30, 255, 255]],
      [[0, 255, 0], [60, 255, 255]],
      [[0, 255, 255], [90, 255, 255]],
      [[0, 0, 255], [120, 255, 255]],
      [[255, 0, 255], [150, 255, 255]],
      [[0, 0, 0], [0, 0, 0]],
      [[128, 128, 128], [0, 0, 128]],
      [[255, 255, 255], [0, 0, 255]],
      // Exact .5 cases of the fixed-point divisions: H = 210°/2 = 105, S = 20/30·255 = 170.
      [[10, 20, 30], [105, 170, 30]],
      // Red branch with g < b: negative hue wraps (−1.2° → −1 → 179).
      [[255, 0, 10], [179, 255, 255]],
    ];
    for (const [rgb, hsv] of cases) expect([...rgbToHsv(px(...rgb))], `rgb ${rgb}`).toEqual(hsv);
  });

  it('rejects data that is not 3-channel', () => {
    expect(() => rgbToHsv(new Uint8Array(4))).toThrow(RangeError);
  });
});

describe('hsvToRgb (OpenCV 8-bit)', () => {
  it('inverts the primaries and greys exactly, in both builds', () => {
    const rgb = px(255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 0, 0, 255, 255, 255, 0, 255, 0, 0, 0, 77, 77, 77, 255, 255, 255);
    const hsv = rgbToHsv(rgb);
    expect([...hsvToRgb(hsv, 9, OPENCV_X86_AVX2)]).toEqual([...rgb]);
    expect([...hsvToRgb(hsv, 9, OPENCV_SCALAR)]).toEqual([...rgb]);
  });

  it('truncates in SIMD blocks (32 pixels of a row with AVX2) and rounds in the row tail', () => {
    // H=108 S=136 V=25 (a pixel of the PIE fixture): g·255 is 16.999998 in float32 with the fused
    // 1 − s·h (exactly 17 without it), so truncation gives 16 and rounding 17.
    const width = 40;
    const hsv = new Uint8Array(width * 3);
    for (let i = 0; i < hsv.length; i += 3) hsv.set([108, 136, 25], i);
    const out = hsvToRgb(hsv, width, OPENCV_X86_AVX2);
    expect(out[1]).toBe(16); // pixel 0: SIMD
    expect(out[31 * 3 + 1]).toBe(16); // last pixel of the 32-pixel block
    expect(out[32 * 3 + 1]).toBe(17); // scalar tail
    expect(hsvToRgb(hsv, width, OPENCV_SCALAR)[1]).toBe(17);
    // The split restarts per row: width 20 has no full block, so all of it rounds.
    expect(hsvToRgb(hsv.subarray(0, 60), 20, OPENCV_X86_AVX2)[1]).toBe(17);
  });

  it('fuses 1 − s·h as the AVX2 build does (without FMA that pixel truncates to 17)', () => {
    const hsv = new Uint8Array(32 * 3);
    for (let i = 0; i < hsv.length; i += 3) hsv.set([108, 136, 25], i);
    expect(hsvToRgb(hsv, 32, OPENCV_X86_AVX2)[1]).toBe(16);
    expect(hsvToRgb(hsv, 32, { simdFloatLanes: 8, fma: false })[1]).toBe(17);
  });

  it('converts in place and checks the row width', () => {
    const rgb = px(12, 200, 90, 250, 3, 40);
    const hsv = rgbToHsv(rgb);
    const expected = hsvToRgb(hsv, 2);
    expect([...hsvToRgb(hsv, 2, OPENCV_X86_AVX2, hsv)]).toEqual([...expected]);
    expect(() => hsvToRgb(new Uint8Array(9), 2)).toThrow(RangeError);
  });

  it('round-trips a strided sample of the RGB cube: V exact, greys exact, other channels within 6', () => {
    const stride = 97; // ~173k colours, all hues and levels, fast
    const n = Math.ceil((1 << 24) / stride);
    const rgb = new Uint8Array(n * 3);
    for (let j = 0; j < n; j++) {
      const c = j * stride;
      rgb[j * 3] = c >> 16; rgb[j * 3 + 1] = (c >> 8) & 255; rgb[j * 3 + 2] = c & 255;
    }
    const hsv = rgbToHsv(rgb);
    for (const mode of [OPENCV_X86_AVX2, OPENCV_SCALAR]) {
      const back = hsvToRgb(hsv, n, mode);
      let maxDiff = 0, vBad = 0, greyBad = 0, hBad = 0;
      for (let i = 0; i < rgb.length; i += 3) {
        const r = rgb[i]!, g = rgb[i + 1]!, b = rgb[i + 2]!;
        for (let k = 0; k < 3; k++) maxDiff = Math.max(maxDiff, Math.abs(back[i + k]! - rgb[i + k]!));
        if (Math.max(back[i]!, back[i + 1]!, back[i + 2]!) !== Math.max(r, g, b)) vBad++;
        if (r === g && g === b && (back[i] !== r || back[i + 1] !== r || back[i + 2] !== r)) greyBad++;
        if (hsv[i]! >= 180 || hsv[i + 2] !== Math.max(r, g, b)) hBad++;
      }
      expect({ vBad, greyBad, hBad }).toEqual({ vBad: 0, greyBad: 0, hBad: 0 });
      // 2° hue steps move the middle channel by up to ~255/60 ≈ 4.25, plus rounding/truncation.
      expect(maxDiff).toBeLessThanOrEqual(6);
    }
  });
});

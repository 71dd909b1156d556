import fs from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RgbImage } from '../../src/image/types.js';
import {
  applyCurve, applyVLut, bocNegative, BOC_PARAMS, curveLut, gammaLut, logLut, mulberry32, sampleCurve, toneLut,
  type BocCurve,
} from '../../src/train/boc.js';
import { sharedPath, skipReason } from '../helpers/shared.js';

describe('BoC LUT formulas (self-contained)', () => {
  it('truncates tone, log and gamma curves at known points', () => {
    const tone6 = toneLut(6), tone01 = toneLut(0.1), log10 = logLut(10), log40 = logLut(40), g5 = gammaLut(5);
    expect([tone6[0], tone6[128], tone6[254], tone6[255]]).toEqual([0, 4, 249, 255]); // (128/255)^6·255 = 4.2
    expect([tone01[0], tone01[1], tone01[255]]).toEqual([0, 146, 255]); // (1/255)^0.1·255 = 146.9
    expect([log10[1], log10[255]]).toEqual([6, 55]); // 10·ln 2 = 6.9, 10·ln 256 = 55.45
    expect([log40[1], log40[255]]).toEqual([27, 221]); // 40·ln 2 = 27.7, 40·ln 256 = 221.8
    expect([g5[84], g5[85], g5[255]]).toEqual([0, 1, 255]); // (1/3)^5·255 = 1.05
    expect(gammaLut(0.2)[1]).toBe(84); // (1/255)^0.2·255 = 84.6
    // γ = 0 at the closed end of U(0, 0.2): 0^0 = 1 in numpy too, so every entry is 255.
    expect(gammaLut(0).every((v) => v === 255)).toBe(true);
  });

  it('reproduces skimage 0.19 linspace grid: γ = 1 is not the identity', () => {
    // linspace(0, 1, 256)[i] = i·(1/255) falls just below i/255 at these indices, and 0.19 truncates.
    const off = [33, 37, 41, 45, 49, 53, 57, 61, 66, 74, 82, 90, 98, 106, 114, 122, 132, 148, 164, 180, 196, 212, 228, 244];
    const lut = gammaLut(1);
    const below = [...lut].flatMap((v, i) => (v === i ? [] : v === i - 1 ? [i] : [-i]));
    expect(below).toEqual(off);
  });

  it('builds each curve\'s LUT and maps V only for tone/log', () => {
    expect([...curveLut({ family: 'log', regime: 'over', a: 40 })]).toEqual([...logLut(40)]);
    const img: RgbImage = { width: 2, height: 1, data: Uint8Array.from([200, 100, 50, 7, 7, 7]) };
    const g = applyCurve(img, { family: 'gamma', regime: 'under', gamma: 5 });
    const lut = gammaLut(5);
    expect([...g.data]).toEqual([...img.data].map((v) => lut[v]));
    const t = applyCurve(img, { family: 'tone', regime: 'under', p: 6 });
    expect(Math.max(...t.data.subarray(0, 3))).toBe(toneLut(6)[200]); // V' = LUT[V]
    expect([...t.data.subarray(3)]).toEqual([0, 0, 0]); // grey 7 → LUT[7] = 0
    expect([...img.data]).toEqual([200, 100, 50, 7, 7, 7]); // input untouched
  });
});

describe('BoC random choice (self-contained)', () => {
  it('follows k = randint(0, 10): tone 4/11, gamma 4/11, log 3/11, a fair coin, γ in range', () => {
    const rng = mulberry32(1234);
    const n = 110_000;
    const byFamily = { tone: 0, gamma: 0, log: 0 };
    const seen = new Set<string>();
    const ks = new Array<number>(11).fill(0);
    let under = 0, bad = 0;
    for (let i = 0; i < n; i++) {
      const { k, curve } = sampleCurve(rng);
      ks[k]!++;
      byFamily[curve.family]++;
      if (curve.regime === 'under') under++;
      seen.add(`${curve.family}/${curve.regime}`);
      // Counted, not asserted per draw: 110k expect() calls would dominate the test's time.
      if (k % 3 !== ['tone', 'gamma', 'log'].indexOf(curve.family)) bad++;
      if (curve.family === 'gamma') {
        const [lo, hi] = BOC_PARAMS.gamma[curve.regime];
        if (!(curve.gamma >= lo && curve.gamma < hi)) bad++;
      } else if (curve.family === 'tone') {
        if (curve.p !== (curve.regime === 'under' ? 6 : 0.1)) bad++;
      } else if (curve.a !== (curve.regime === 'under' ? 10 : 40)) {
        bad++;
      }
    }
    expect(bad).toBe(0);
    expect(seen.size).toBe(6);
    expect(ks.every((c) => Math.abs(c / n - 1 / 11) < 0.005)).toBe(true); // 0 and 10 both drawn
    expect(byFamily.tone / n).toBeCloseTo(4 / 11, 2);
    expect(byFamily.gamma / n).toBeCloseTo(4 / 11, 2);
    expect(byFamily.log / n).toBeCloseTo(3 / 11, 2);
    expect(under / n).toBeCloseTo(0.5, 2);
  });

  it('is reproducible from a seed and reports the curve it applied', () => {
    const img: RgbImage = { width: 3, height: 1, data: Uint8Array.from([10, 20, 30, 120, 60, 200, 255, 250, 240]) };
    const a = bocNegative(img, mulberry32(7)), b = bocNegative(img, mulberry32(7));
    expect(a.curve).toEqual(b.curve);
    expect([...a.image.data]).toEqual([...b.image.data]);
    expect([...a.image.data]).toEqual([...applyCurve(img, a.curve).data]);
    // An rng scripted to pick k = 1 (gamma), 'over', u = 0.5 → γ = 0.1.
    const script = [1.5 / 11, 0.9, 0.5];
    const neg = bocNegative(img, () => script.shift()!);
    expect(neg.k).toBe(1);
    expect(neg.curve).toEqual({ family: 'gamma', regime: 'over', gamma: 0.1 });
  });
});

const FIX = 'fixtures/boc/manifest.json';
const INPUT = 'fixtures/felzenszwalb/input.png';
const skip = skipReason(FIX) ?? skipReason(INPUT);

interface Manifest { luts: Record<string, number[]>; applied: Record<string, { file: string; shape: number[] }> }

/** Manifest names → our curves. */
const CURVES: Record<string, BocCurve> = {
  tone_p6: { family: 'tone', regime: 'under', p: 6 },
  'tone_p0.1': { family: 'tone', regime: 'over', p: 0.1 },
  log_a10: { family: 'log', regime: 'under', a: 10 },
  log_a40: { family: 'log', regime: 'over', a: 40 },
  'gamma_5.0': { family: 'gamma', regime: 'under', gamma: 5 },
  'gamma_8.0': { family: 'gamma', regime: 'under', gamma: 8 },
  'gamma_0.2': { family: 'gamma', regime: 'over', gamma: 0.2 },
};

describe.skipIf(skip !== undefined)('BoC against the PIE fixtures (skimage 0.19.3, OpenCV 4.6.0)', () => {
  let manifest: Manifest;
  let input: RgbImage;
  beforeAll(async () => {
    manifest = JSON.parse(fs.readFileSync(sharedPath(FIX), 'utf8')) as Manifest;
    const sharp = (await import('sharp')).default;
    const { data, info } = await sharp(sharedPath(INPUT)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    input = { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  });

  it('every manifest LUT equals ours exactly', () => {
    expect(Object.keys(manifest.luts).sort()).toEqual(Object.keys(CURVES).sort());
    for (const [name, lut] of Object.entries(manifest.luts)) expect([...curveLut(CURVES[name]!)], name).toEqual(lut);
  });

  it('reproduces every applied_*.u8 from input.png bit for bit', () => {
    expect(Object.keys(manifest.applied).length).toBe(6);
    for (const [name, { file, shape }] of Object.entries(manifest.applied)) {
      expect(shape).toEqual([input.height, input.width, 3]);
      const ref = new Uint8Array(fs.readFileSync(sharedPath(`fixtures/boc/${file}`)));
      const out = applyCurve(input, CURVES[name]!).data;
      let differ = 0;
      for (let i = 0; i < ref.length; i++) if (out[i] !== ref[i]) differ++;
      expect(differ, name).toBe(0);
    }
  });

  it('needs the AVX2 build model: a scalar OpenCV build would differ on most pixels', () => {
    const ref = new Uint8Array(fs.readFileSync(sharedPath('fixtures/boc/applied_log_a40.u8')));
    const out = applyVLut(input, logLut(40), { simdFloatLanes: 0, fma: false }).data;
    let differ = 0;
    for (let i = 0; i < ref.length; i++) if (out[i] !== ref[i]) differ++;
    expect(differ).toBeGreaterThan(ref.length / 4);
  });
});

// Synthetic night shots with ground truth: a well-exposed sRGB image re-shot by a simulated sensor
// at a fraction of the light. Darkening happens in linear light and the noise is the physics of
// counting photons (Poisson shot noise, Gaussian read noise), so the noise is signal-dependent the
// way a real dark frame's is, which a gamma curve plus Gaussian noise would not be. Pure and
// seeded: the same image, options and seed give the same bytes.
import type { RgbImage } from '../image/types.js';
import { mulberry32, type Rng } from '../train/boc.js';

/** Electrons at saturation: a small phone/CCTV pixel (100), a mid sensor (300), a large one (1000). */
export const FULL_WELLS = [100, 300, 1000] as const;

/**
 * Read noise σ in electrons when none is given: a typical CMOS figure at low gain (roughly 1–5 e⁻
 * across phone and security-camera sensors).
 */
export const DEFAULT_READ_NOISE = 3;

export const EXPOSURE_RANGE = [0.03, 0.12] as const;

export interface DarkenOptions {
  /** Fraction of the original light that reaches the sensor (EXPOSURE_RANGE is the range used). */
  readonly exposure: number;
  /** Electrons at which a pixel saturates; the fewer, the noisier the same exposure. */
  readonly fullWell: number;
  /** Read-noise σ in electrons (default DEFAULT_READ_NOISE). */
  readonly readNoise?: number;
  readonly seed: number;
}

/** The exact sRGB EOTF (IEC 61966-2-1) per 8-bit code: code → linear light in [0, 1]. */
const SRGB_TO_LINEAR = Float64Array.from({ length: 256 }, (_, i) => {
  const c = i / 255;
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
});

/** The exact sRGB OETF: linear light in [0, 1] → 8-bit code, rounded. */
export function linearToSrgbByte(l: number): number {
  const x = Math.min(1, Math.max(0, l));
  const c = x <= 0.0031308 ? 12.92 * x : 1.055 * x ** (1 / 2.4) - 0.055;
  return Math.round(c * 255);
}

export const srgbByteToLinear = (v: number): number => SRGB_TO_LINEAR[v]!;

/** A standard normal sampler (Box–Muller, the second value of each pair kept for the next call). */
function normalSampler(rng: Rng): () => number {
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const s = spare;
      spare = undefined;
      return s;
    }
    const u = 1 - rng(); // (0, 1]: log(0) would be −∞
    const rad = Math.sqrt(-2 * Math.log(u)), th = 2 * Math.PI * rng();
    spare = rad * Math.sin(th);
    return rad * Math.cos(th);
  };
}

/** Above this mean the normal approximation's error is well below one electron of the read noise. */
const POISSON_NORMAL_ABOVE = 30;

/**
 * A Poisson(λ) sampler: exact by CDF inversion (one uniform, O(λ) steps) for λ ≤ 30, and
 * round(λ + √λ·z) clamped at 0 above, where the skew left over is negligible.
 */
function poissonSampler(rng: Rng, normal: () => number): (lambda: number) => number {
  return (lambda) => {
    if (lambda <= 0) return 0;
    if (lambda > POISSON_NORMAL_ABOVE) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * normal()));
    const u = rng();
    let k = 0, p = Math.exp(-lambda), cdf = p;
    // The k < 1000 cap only guards against u landing in float round-off beyond the total mass.
    while (u > cdf && k < 1000) {
      k++;
      p *= lambda / k;
      cdf += p;
    }
    return k;
  };
}

/**
 * Re-shoots `img` at `exposure` × the light on a sensor of `fullWell` electrons: each channel's
 * sRGB code → linear light (exact EOTF) → × exposure × fullWell = the mean photo-electrons;
 * electrons = Poisson(mean) + Normal(0, readNoise); electrons / fullWell clipped to [0, 1] →
 * sRGB OETF → rounded byte. No gain is applied afterwards: the result is the dark frame a camera
 * would record, and `img` is its ground truth. Channels are sampled independently (no Bayer
 * mosaic or demosaicing).
 */
export function darken(img: RgbImage, o: DarkenOptions): RgbImage {
  if (img.data.length !== img.width * img.height * 3) throw new RangeError(`darken: ${img.width}x${img.height} RGB needs ${img.width * img.height * 3} bytes, got ${img.data.length}`);
  if (!(o.exposure > 0 && o.exposure <= 1)) throw new RangeError(`darken: exposure ${o.exposure} is not in (0, 1]`);
  if (!(o.fullWell > 0)) throw new RangeError(`darken: full well ${o.fullWell} is not positive`);
  const readNoise = o.readNoise ?? DEFAULT_READ_NOISE;
  if (!(readNoise >= 0)) throw new RangeError(`darken: read noise ${readNoise} is negative`);
  const rng = mulberry32(o.seed);
  const normal = normalSampler(rng), poisson = poissonSampler(rng, normal);
  const scale = o.exposure * o.fullWell;
  const src = img.data, data = new Uint8Array(src.length);
  for (let i = 0; i < src.length; i++) {
    let e = poisson(SRGB_TO_LINEAR[src[i]!]! * scale);
    if (readNoise > 0) e += readNoise * normal();
    data[i] = linearToSrgbByte(e / o.fullWell);
  }
  return { width: img.width, height: img.height, data };
}

/**
 * A reproducible exposure for image `index` of a run seeded `seed`: log-uniform over
 * EXPOSURE_RANGE (uniform in stops, 2 stops wide), so darker and brighter nights are equally
 * represented on the scale a photographer thinks in.
 */
export function exposureFor(seed: number, index: number): number {
  // Mix index into the seed (golden-ratio multiply) so neighbouring indices get unrelated streams.
  const rng = mulberry32((seed ^ Math.imul(index + 1, 0x9e3779b9)) >>> 0);
  const [lo, hi] = EXPOSURE_RANGE;
  return Math.exp(Math.log(lo) + rng() * (Math.log(hi) - Math.log(lo)));
}

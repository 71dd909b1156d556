// OpenCV 4.6 8-bit RGB <-> HSV (cv2.COLOR_RGB2HSV / cv2.COLOR_HSV2RGB on uint8), bit-exact, because
// PIE's Bag-of-Curves negatives edit the V channel of exactly this representation.
// H is degrees/2 (0..179), S and V are 0..255. Packed RGB / HSV Uint8Arrays, 3 bytes a pixel. Pure.

const HSV_SHIFT = 12; // OpenCV's fixed-point precision for the 8-bit forward conversion
const HALF = 1 << (HSV_SHIFT - 1);
const HRANGE = 180;

// OpenCV's reciprocal tables: sdiv[v] ≈ 255·2^12/v, hdiv[d] ≈ 180·2^12/(6d), rounded to nearest.
// Neither quotient is ever an exact .5 for 1 ≤ i ≤ 255, so Math.round equals OpenCV's cvRound here.
const SDIV = new Int32Array(256);
const HDIV = new Int32Array(256);
for (let i = 1; i < 256; i++) {
  SDIV[i] = Math.round((255 << HSV_SHIFT) / i);
  HDIV[i] = Math.round((HRANGE << HSV_SHIFT) / (6 * i));
}

/** RGB → HSV, the integer path OpenCV uses for 8-bit input (the SIMD and scalar paths agree). */
export function rgbToHsv(rgb: Uint8Array, out: Uint8Array = new Uint8Array(rgb.length)): Uint8Array {
  if (rgb.length % 3 !== 0 || out.length < rgb.length) throw new RangeError('rgbToHsv: need packed 3-channel data');
  for (let i = 0; i < rgb.length; i += 3) {
    const r = rgb[i]!, g = rgb[i + 1]!, b = rgb[i + 2]!;
    const v = Math.max(r, g, b);
    const diff = v - Math.min(r, g, b);
    const s = (diff * SDIV[v]! + HALF) >> HSV_SHIFT;
    // Hue numerator in units of diff/6 of a turn; the red branch wins ties, then green.
    let h = v === r ? g - b : v === g ? b - r + 2 * diff : r - g + 4 * diff;
    h = (h * HDIV[diff]! + HALF) >> HSV_SHIFT; // arithmetic shift: floors negatives, like C's >>
    if (h < 0) h += HRANGE;
    out[i] = h; // always within 0..179, so saturate_cast is a no-op
    out[i + 1] = s;
    out[i + 2] = v;
  }
  return out;
}

/**
 * Which OpenCV build to reproduce in HSV → RGB. HSV2RGB_b runs blocks of 4·simdFloatLanes pixels
 * of each row through its SIMD loop, which truncates to bytes, and the rest of the row through a
 * scalar loop, which rounds half to even; so the bytes depend on the vector width (0: a scalar
 * build, 4: SSE/NEON, 8: AVX2). `fma`: the compiler fused 1 − s·h into one fused multiply-add,
 * as GCC does (-ffp-contract=fast) in the AVX2+FMA dispatch of color_hsv.
 */
export interface Hsv2RgbMode {
  readonly simdFloatLanes: number;
  readonly fma: boolean;
}

/**
 * OpenCV 4.6 on x86-64 (pip wheels; color_hsv is dispatched up to AVX2, so AVX-512 machines run it
 * too). The PIE fixtures match this bit for bit; without `fma` 20 of 38 400 pixels differ by 1.
 */
export const OPENCV_X86_AVX2: Hsv2RgbMode = { simdFloatLanes: 8, fma: true };
/** A build without SIMD or FMA: every pixel rounded. */
export const OPENCV_SCALAR: Hsv2RgbMode = { simdFloatLanes: 0, fma: false };

const f32 = Math.fround;
const INV255 = f32(1 / 255);
const HSCALE = f32(6 / HRANGE);

/** Round half to even (cvRound / lrintf in the default FP mode; ONNX Round). */
export function rint(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && (r & 1) === 1 ? r - 1 : r;
}

const F64 = new Float64Array(1);
const I64 = new BigInt64Array(F64.buffer);
const F32 = new Float32Array(1);
const I32 = new Int32Array(F32.buffer);

/** The float32 neighbour of float32 f in the direction of `toward`. */
function next32(f: number, toward: number): number {
  F32[0] = f;
  if (f === 0) { I32[0] = 1; return toward > 0 ? F32[0]! : -F32[0]!; }
  I32[0] = I32[0]! + ((toward > f) === (f > 0) ? 1 : -1);
  return F32[0]!;
}

/** The double neighbour of x in the direction of the sign of `dir`. */
function nudge64(x: number, dir: number): number {
  F64[0] = x;
  I64[0] = I64[0]! + ((dir > 0) === (x > 0) ? 1n : -1n);
  return F64[0]!;
}

/**
 * fmaf(a, b, c) for float32 a, b, c: a·b is exact in a double, the sum is rounded once to double and
 * its rounding error recovered (TwoSum), which settles the only case a double sum rounds to float32
 * wrongly: a double result exactly halfway between two float32s.
 */
function fmaf(a: number, b: number, c: number): number {
  const p = a * b;
  const s = p + c;
  const bb = s - p;
  const err = (p - (s - bb)) + (c - bb);
  const f = f32(s);
  if (err === 0 || f === s) return f;
  const other = next32(f, s);
  return s - f === other - s ? f32(nudge64(s, err)) : f;
}

const sat8 = (x: number): number => (x < 0 ? 0 : x > 255 ? 255 : x);

/**
 * HSV → RGB for 8-bit data: float32 arithmetic exactly as OpenCV does it (every operation rounded
 * to float32 with Math.fround), then truncation (SIMD blocks) or rounding (scalar tail).
 * `width` is the row length, needed because OpenCV's SIMD/scalar split restarts on each row.
 */
export function hsvToRgb(
  hsv: Uint8Array, width: number, mode: Hsv2RgbMode = OPENCV_X86_AVX2,
  out: Uint8Array = new Uint8Array(hsv.length),
): Uint8Array {
  if (hsv.length % 3 !== 0 || out.length < hsv.length) throw new RangeError('hsvToRgb: need packed 3-channel data');
  if (!Number.isInteger(width) || width <= 0 || (hsv.length / 3) % width !== 0) {
    throw new RangeError(`hsvToRgb: ${hsv.length / 3} pixels is not a whole number of rows of ${width}`);
  }
  // Pixels [0, simdEnd) of each row go through the vector loop.
  const block = 4 * mode.simdFloatLanes;
  const simdEnd = block > 0 ? Math.floor(width / block) * block : 0;
  const fma = mode.fma;
  const pixels = hsv.length / 3;
  for (let p = 0, x = 0; p < pixels; p++, x = x + 1 === width ? 0 : x + 1) {
    const i = p * 3;
    const s = f32(hsv[i + 1]! * INV255);
    const v = f32(hsv[i + 2]! * INV255);
    let b: number, g: number, r: number;
    // The SIMD path has no s == 0 shortcut, but its tables all equal v when s == 0, so one branch serves both.
    if (s === 0) {
      b = g = r = v;
    } else {
      let h = f32(hsv[i]! * HSCALE) % 6; // fmod: a no-op for H < 180
      let sector = Math.floor(h);
      h = f32(h - sector); // exact
      if (sector >= 6) { sector = 0; h = 0; } // unreachable after fmod; OpenCV's guard
      const t0 = v;
      const t1 = f32(v * f32(1 - s));
      const t2 = f32(v * (fma ? fmaf(-s, h, 1) : f32(1 - f32(s * h))));
      const h1 = f32(1 - h);
      const t3 = f32(v * (fma ? fmaf(-s, h1, 1) : f32(1 - f32(s * h1))));
      switch (sector) {
        case 0: b = t1; g = t3; r = t0; break;
        case 1: b = t1; g = t0; r = t2; break;
        case 2: b = t3; g = t0; r = t1; break;
        case 3: b = t0; g = t2; r = t1; break;
        case 4: b = t0; g = t1; r = t3; break;
        default: b = t2; g = t1; r = t0; break;
      }
    }
    const rs = f32(r * 255), gs = f32(g * 255), bs = f32(b * 255);
    if (x < simdEnd) {
      out[i] = sat8(Math.trunc(rs)); out[i + 1] = sat8(Math.trunc(gs)); out[i + 2] = sat8(Math.trunc(bs));
    } else {
      out[i] = sat8(rint(rs)); out[i + 1] = sat8(rint(gs)); out[i + 2] = sat8(rint(bs));
    }
  }
  return out;
}

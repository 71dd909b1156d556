// The denoiser's graph (src/denoise/graph.ts buildDenoiseGraph, the reference) as a few fused
// passes in C for WebAssembly. ONNX Runtime's CPU provider makes each of the graph's ~60
// full-resolution ops a pass over memory (~52 ms a 720p frame on 2 cores); here the frame is
// read once for the motion test, once for the state update, and once for the guided filter's
// output and the encoding. One frame a call; the state arrays are the caller's (planar, as the
// graph's). Built by scripts/build-wasm.sh; memory laid out by src/denoise/denoise-wasm.ts.
#include <stdint.h>
#include <wasm_simd128.h>

typedef uint8_t u8;

#define EXPORT(name) __attribute__((export_name(#name)))

/** graph.ts MIN_VARIANCE, BLOCK_THRESHOLDS. */
#define MIN_VARIANCE 1e-7f
#define BLOCK_T0 9.0f
#define BLOCK_T1 25.0f

static inline float clamp01(float v) { return v < 0 ? 0 : (v > 1 ? 1 : v); }
static inline float fmaxf_(float a, float b) { return a > b ? a : b; }

/**
 * Mean over a (2r+1)² window, edge windows averaging what they cover (AveragePool with
 * count_include_pad 0), separably: rows into `tmp` (window sums over x), then columns into
 * `out`, each divided by the number of pixels its window covers.
 */
static void box_mean(const float *restrict in, float *restrict out, float *restrict tmp, int w, int h, int r) {
  for (int y = 0; y < h; y++) {
    const float *restrict row = in + (long)y * w;
    float *restrict t = tmp + (long)y * w;
    // The window's edges clipped at the row's ends; inside, a fixed number of taps (vectorised).
    const int lo = r < w ? r : w, hi = w - r > lo ? w - r : lo;
    for (int x = 0; x < lo; x++) {
      const int x1 = x + r >= w ? w - 1 : x + r;
      float s = 0;
      for (int i = 0; i <= x1; i++) s += row[i];
      t[x] = s;
    }
    if (r == 1) for (int x = lo; x < hi; x++) t[x] = row[x - 1] + row[x] + row[x + 1];
    else if (r == 2) for (int x = lo; x < hi; x++) t[x] = row[x - 2] + row[x - 1] + row[x] + row[x + 1] + row[x + 2];
    else for (int x = lo; x < hi; x++) { float s = 0; for (int i = -r; i <= r; i++) s += row[x + i]; t[x] = s; }
    for (int x = hi; x < w; x++) {
      const int x0 = x - r < 0 ? 0 : x - r;
      float s = 0;
      for (int i = x0; i < w; i++) s += row[i];
      t[x] = s;
    }
  }
  for (int y = 0; y < h; y++) {
    const int y0 = y - r < 0 ? 0 : y - r, y1 = y + r >= h ? h - 1 : y + r;
    const float ny = (float)(y1 - y0 + 1);
    float *restrict o = out + (long)y * w;
    const float *restrict t0 = tmp + (long)y0 * w;
    for (int x = 0; x < w; x++) o[x] = t0[x];
    for (int j = y0 + 1; j <= y1; j++) {
      const float *restrict t = tmp + (long)j * w;
      for (int x = 0; x < w; x++) o[x] += t[x];
    }
    // Interior columns cover 2r+1; the first and last r fewer.
    const int lo = r < w ? r : w, hi = w - r > lo ? w - r : lo;
    for (int x = 0; x < w; x = (x + 1 == lo ? hi : x + 1)) {
      const int x0 = x - r < 0 ? 0 : x - r, x1 = x + r >= w ? w - 1 : x + r;
      o[x] /= ny * (float)(x1 - x0 + 1);
    }
    const float inner = 1.0f / (ny * (float)(2 * r + 1));
    for (int x = lo; x < hi; x++) o[x] *= inner;
  }
}

/** AveragePool 2×2, stride 2, ceil_mode, count_include_pad 0: `out` is ⌈h/2⌉×⌈w/2⌉. */
static void half(const float *in, float *out, int w, int h) {
  const int w2 = (w + 1) / 2, h2 = (h + 1) / 2;
  for (int y = 0; y < h2; y++) {
    const int ya = 2 * y, yb = 2 * y + 1 < h ? 2 * y + 1 : 2 * y;
    for (int x = 0; x < w2; x++) {
      const int xa = 2 * x, xb = 2 * x + 1 < w ? 2 * x + 1 : 2 * x;
      const float n = (float)((yb - ya + 1) * (xb - xa + 1));
      float s = in[(long)ya * w + xa];
      if (xb != xa) s += in[(long)ya * w + xb];
      if (yb != ya) { s += in[(long)yb * w + xa]; if (xb != xa) s += in[(long)yb * w + xb]; }
      out[(long)y * w2 + x] = s / n;
    }
  }
}

/** Where Resize linear half_pixel puts full-resolution coordinate i between small cells. */
static inline void axis(int i, int full, int small, int *lo, int *hi, float *f) {
  float s = ((float)i + 0.5f) * ((float)small / (float)full) - 0.5f;
  if (s < 0) s = 0;
  if (s > (float)(small - 1)) s = (float)(small - 1);
  const int l = (int)s;
  *lo = l; *hi = l + 1 < small ? l + 1 : small - 1; *f = s - (float)l;
}

/**
 * The guided filter's coefficients (He & Sun, fast: statistics at half resolution) for one
 * channel: A and OFF at ⌈h/2⌉×⌈w/2⌉, so that the filtered value is up(A)·x + up(OFF).
 * `epsDiv` (half resolution, already box-averaged) divides ε where the temporal filter left
 * σ²/n; null for the spatial denoiser.
 */
static void guided_coeffs(const float *x, int w, int h, int r, float gain, float read2, float strength,
                          const float *eps_div, float *A, float *OFF, float *s0, float *s1, float *s2, float *tmp) {
  const int w2 = (w + 1) / 2, h2 = (h + 1) / 2, n = w2 * h2;
  half(x, s0, w, h);                       // small
  for (int i = 0; i < n; i++) s1[i] = s0[i] * s0[i];
  box_mean(s0, s2, tmp, w2, h2, r);         // mean
  box_mean(s1, s0, tmp, w2, h2, r);         // mean of squares (small no longer needed)
  const float rd = read2 > MIN_VARIANCE ? read2 : MIN_VARIANCE;
  for (int i = 0; i < n; i++) {
    const float m = s2[i];
    float var = s0[i] - m * m;
    if (var < 0) var = 0;
    float eps = (m * gain + rd) * strength;
    if (eps_div) eps /= eps_div[i];
    const float a = var / (var + eps);
    s1[i] = a;
    s0[i] = m - a * m;
  }
  box_mean(s1, A, tmp, w2, h2, r);
  box_mean(s0, OFF, tmp, w2, h2, r);
}

/** Linear light → the frame's encoding-table index (graph.ts addEncode): √ of the clipped value, rounded. */
static inline int encode_index(float y) {
  const float last = 4095.0f, top = last * last;
  float v = y * top;
  v = v > 0 ? v : 0;  // and NaN to 0
  v = v < top ? v : top;
  return (int)(__builtin_sqrtf(v) + 0.5f);
}

/** The frame's bytes → three planes of linear light. */
static void decode(const u8 *restrict frame, const float *restrict lin, float *restrict x, long px) {
  for (long p = 0; p < px; p++) {
    x[p] = lin[frame[3 * p]]; x[px + p] = lin[frame[3 * p + 1]]; x[2 * px + p] = lin[frame[3 * p + 2]];
  }
}

/**
 * The motion test's inputs: z = (x − estimate)/σ per channel, where σ² is the noise at the mean
 * of the two times 1 + 1/n (the estimate's own noise); summed over channels (`zs`, for the block
 * test) and squared-summed (`zz`, for the pixel test). Channel by channel, so each loop runs over
 * contiguous planes and vectorises.
 */
static void motion_z(const float *restrict x, const float *restrict est, const float *restrict count, long px,
                     float half_gain, float rd, float *restrict spread, float *restrict zz, float *restrict zs) {
  for (long p = 0; p < px; p++) {
    const float n = count[p];
    spread[p] = 1.0f + 1.0f / (n > 1.0f ? n : 1.0f);
    zz[p] = 0; zs[p] = 0;
  }
  for (int c = 0; c < 3; c++) {
    const float *restrict xc = x + c * px, *restrict ec = est + c * px;
    for (long p = 0; p < px; p++) {
      const float var = (xc[p] + ec[p]) * half_gain + rd;
      const float z = (xc[p] - ec[p]) / __builtin_sqrtf(var * spread[p]);
      zs[p] += z; zz[p] += z * z;
    }
  }
}

/**
 * How much each pixel moved (0 static … 1 moving; the stronger of the pixel and the block test,
 * written over `pixel`), the next frame count and the next running estimate. Returns the sum of
 * the motion.
 */
static double update_state(const float *restrict x, const float *restrict est, const float *restrict count, long px,
                           float *restrict pixel, const float *restrict block, float t0, float t1, float max_frames,
                           float *restrict next_est, float *restrict next_count) {
  const float scale = 5.0f / 1.7320508075688772f;
  for (long p = 0; p < px; p++) {
    const float b = block[p] * scale;
    const float m = fmaxf_(clamp01((pixel[p] - 3 * t0) / (3 * t1 - 3 * t0)), clamp01((b * b - BLOCK_T0) / (BLOCK_T1 - BLOCK_T0)));
    pixel[p] = m;
    const float nc = (1.0f - m) * count[p] + 1.0f;
    next_count[p] = nc > max_frames ? max_frames : nc;
  }
  for (int c = 0; c < 3; c++) {
    const float *restrict xc = x + c * px, *restrict ec = est + c * px;
    float *restrict nc = next_est + c * px;
    for (long p = 0; p < px; p++) nc[p] = ec[p] + (xc[p] - ec[p]) * (1.0f / next_count[p]);
  }
  double sum = 0;
  for (long p = 0; p < px; p++) sum += pixel[p];
  return sum;
}

/**
 * The output pass for one channel: the guided filter's coefficients upsampled (each row blended
 * between its two half-resolution rows, then across), the filter, the encoding lookup, rounding
 * and, temporal, the rounding hysteresis. `codes` is the packed frame at this channel's offset.
 */
static void output_channel(const float *restrict y_in, const float *restrict A, const float *restrict OFF, int filtered,
                           int w, int h, const float *restrict table, const u8 *restrict shown, const float *restrict next_count,
                           float hysteresis, u8 *restrict next_shown, u8 *restrict codes, float *restrict rows) {
  const int w2 = (w + 1) / 2, h2 = (h + 1) / 2;
  int *restrict xlo = (int *)rows, *restrict xhi = xlo + w;
  float *restrict fxs = (float *)(xhi + w), *restrict row_a = fxs + w, *restrict row_o = row_a + w2;
  float *restrict full_a = row_o + w2, *restrict full_o = full_a + w;
  int *restrict idx = (int *)(full_o + w);
  for (int x = 0; x < w; x++) axis(x, w, w2, &xlo[x], &xhi[x], &fxs[x]);
  for (int y = 0; y < h; y++) {
    const long row = (long)y * w;
    const float *restrict yr = y_in + row;
    if (filtered) {
      int ylo, yhi; float fy;
      axis(y, h, h2, &ylo, &yhi, &fy);
      const float *restrict a0 = A + ylo * w2, *restrict a1 = A + yhi * w2, *restrict o0 = OFF + ylo * w2, *restrict o1 = OFF + yhi * w2;
      for (int i = 0; i < w2; i++) { row_a[i] = a0[i] + fy * (a1[i] - a0[i]); row_o[i] = o0[i] + fy * (o1[i] - o0[i]); }
      if (w == 2 * w2 && w2 >= 2) {
        // An even width: full-resolution x = 2i − 1 lies a quarter of the way from cell i − 1 to
        // i, x = 2i three quarters (axis(): the same weights, exact in float, and the same
        // arithmetic), and the two ends take their cell; with no gathers the loop vectorises.
        full_a[0] = row_a[0]; full_o[0] = row_o[0];
        for (int i = 1; i < w2; i++) {
          const float da = row_a[i] - row_a[i - 1], dof = row_o[i] - row_o[i - 1];
          full_a[2 * i - 1] = row_a[i - 1] + 0.25f * da; full_a[2 * i] = row_a[i - 1] + 0.75f * da;
          full_o[2 * i - 1] = row_o[i - 1] + 0.25f * dof; full_o[2 * i] = row_o[i - 1] + 0.75f * dof;
        }
        full_a[w - 1] = row_a[w2 - 1]; full_o[w - 1] = row_o[w2 - 1];
      } else {
        for (int x = 0; x < w; x++) {
          const int l = xlo[x], r = xhi[x];
          full_a[x] = row_a[l] + fxs[x] * (row_a[r] - row_a[l]);
          full_o[x] = row_o[l] + fxs[x] * (row_o[r] - row_o[l]);
        }
      }
      for (int x = 0; x < w; x++) idx[x] = encode_index(full_a[x] * yr[x] + full_o[x]);
    } else {
      for (int x = 0; x < w; x++) idx[x] = encode_index(yr[x]);
    }
    // The table lookup alone (a gather: scalar), then the rounding and the hysteresis over the
    // row (vectorised), then the packed frame's bytes, a channel's every third.
    float *restrict code = full_a;  // free once idx is made
    u8 *restrict out = (u8 *)full_o;
    for (int x = 0; x < w; x++) code[x] = table[idx[x]];
    const u8 *restrict was = next_shown ? shown + row : 0;
    const float *restrict nc = next_count + row;
    u8 *restrict ns = next_shown ? next_shown + row : 0;
    int x = 0;
    // Four codes at a time (clang leaves the float → byte rounding scalar): round half to even,
    // clamp, and, temporal, keep the shown code where it is within the hysteresis of a settled pixel.
    const v128_t lo = wasm_f32x4_splat(0), hi = wasm_f32x4_splat(255), hyst = wasm_f32x4_splat(hysteresis), settled = wasm_f32x4_splat(1.5f);
    for (; x + 4 <= w; x += 4) {
      const v128_t c = wasm_v128_load(code + x);
      v128_t q = wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_pmax(lo, wasm_f32x4_pmin(hi, wasm_f32x4_nearest(c))));
      if (ns) {
        const v128_t w4 = wasm_u32x4_extend_low_u16x8(wasm_u16x8_extend_low_u8x16(wasm_v128_load32_zero(was + x)));
        const v128_t keep = wasm_v128_and(wasm_f32x4_lt(wasm_f32x4_abs(wasm_f32x4_sub(c, wasm_f32x4_convert_i32x4(w4))), hyst),
                                          wasm_f32x4_gt(wasm_v128_load(nc + x), settled));
        q = wasm_v128_bitselect(w4, q, keep);
      }
      const v128_t b = wasm_u8x16_narrow_i16x8(wasm_i16x8_narrow_i32x4(q, q), wasm_i16x8_narrow_i32x4(q, q));
      wasm_v128_store32_lane(out + x, b, 0);
      if (ns) wasm_v128_store32_lane(ns + x, b, 0);
    }
    for (; x < w; x++) {
      float rc = __builtin_rintf(code[x]);  // half to even, as Round
      rc = rc < 0 ? 0 : (rc > 255 ? 255 : rc);
      out[x] = (u8)rc;
      if (ns) {
        // Without branches: on noisy frames keep-or-not is a coin toss, and mispredicted it cost
        // a third of the kernel's time.
        const float d = __builtin_fabsf(code[x] - (float)was[x]);
        const int keep = (d < hysteresis) & (nc[x] > 1.5f);
        out[x] = keep ? was[x] : out[x];
        ns[x] = out[x];
      }
    }
    for (int x = 0; x < w; x++) codes[3 * (row + x)] = out[x];
  }
}

/**
 * One frame through the denoiser. `temporal`: the state `est` (3 planes, linear), `count` and
 * `shown` (3 planes of codes) are read and their next values written to `next_est`,
 * `next_count`, `next_shown`; returns the share of moving pixels. Spatial: the state pointers
 * are unused and the return is 0. `codes` gets the denoised frame (packed RGB). `table` is the
 * frame's 4096-entry encoding (codes as floats, the black-clip correction composed in);
 * `lin` is the byte → linear table. `work` holds 8 full-resolution planes of floats, 6
 * half-resolution ones and 9 rows.
 */
EXPORT(denoise)
float denoise(const u8 *frame, int w, int h, int temporal, float gain, float read2,
              const float *lin, const float *table,
              const float *est, const float *count, const u8 *shown,
              float *next_est, float *next_count, u8 *next_shown, u8 *codes,
              float t0, float t1, float max_frames, float strength, int radius, float hysteresis,
              float *work) {
  const long px = (long)w * h;
  const int w2 = (w + 1) / 2, h2 = (h + 1) / 2;
  const long px2 = (long)w2 * h2;
  float *zz = work, *zs = work + px, *pixel = work + 2 * px, *block = work + 3 * px, *tmp = work + 4 * px;
  float *x = work + 5 * px;  // 3 planes of the frame in linear light
  float *A = work + 8 * px, *OFF = A + 3 * px2;  // 6 half-resolution planes after the 8 full ones
  float *rows = OFF + 3 * px2;
  const float rd = read2 > MIN_VARIANCE ? read2 : MIN_VARIANCE;
  decode(frame, lin, x, px);
  const float *y_in = x;  // what the guided filter smooths
  double moving = 0;
  if (temporal) {
    motion_z(x, est, count, px, gain * 0.5f, rd, tmp, zz, zs);
    box_mean(zz, pixel, tmp, w, h, 1);
    box_mean(zs, block, tmp, w, h, 2);
    moving = update_state(x, est, count, px, pixel, block, t0, t1, max_frames, next_est, next_count);
    y_in = next_est;
  }
  // The guided filter's coefficients, per channel at half resolution (ε divided by the frame
  // count there where the temporal filter left σ²/n).
  float *s0 = zz, *s1 = zs, *s2 = pixel, *small_tmp = block;
  float *eps_div = 0;
  if (strength > 0) {
    if (temporal) {
      eps_div = tmp + px2;
      half(next_count, s0, w, h);
      box_mean(s0, eps_div, small_tmp, w2, h2, radius);
    }
    for (int c = 0; c < 3; c++) guided_coeffs(y_in + c * px, w, h, radius, gain, read2, strength, eps_div, A + c * px2, OFF + c * px2, s0, s1, s2, small_tmp);
  }
  for (int c = 0; c < 3; c++) {
    output_channel(y_in + c * px, A + c * px2, OFF + c * px2, strength > 0, w, h, table,
                   temporal ? shown + c * px : 0, next_count, hysteresis, temporal ? next_shown + c * px : 0, codes + c, rows);
  }
  return temporal ? (float)(moving / (double)px) : 0;
}

/**
 * The global-motion check's luma plane (src/denoise/global-motion.ts lumaOf, the reference): the
 * mean of (R + 2G + B)/4 over factor×factor blocks, a pixel's channels `plane` apart and
 * neighbouring pixels `step` apart (packed RGB: 1 and 3; planar: w·h and 1). `out` is
 * ⌊w/factor⌋×⌊h/factor⌋. The same arithmetic as the reference (an integer block sum times the
 * norm in double, rounded to float once), so the planes are equal bit for bit.
 */
EXPORT(luma)
void luma(const u8 *data, int width, int height, int factor, int step, int plane, float *out) {
  const int w = width / factor, h = height / factor;
  const double norm = 1.0 / (double)(4 * factor * factor);
  for (int y = 0; y < h; y++) {
    for (int x = 0; x < w; x++) {
      uint32_t s = 0;
      for (int dy = 0; dy < factor; dy++) {
        const u8 *p = data + ((long)(y * factor + dy) * width + (long)x * factor) * step;
        for (int dx = 0; dx < factor; dx++, p += step) s += p[0] + 2u * p[plane] + p[2 * plane];
      }
      out[y * w + x] = (float)((double)s * norm);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The global-motion fit's loops (src/denoise/global-motion.ts estimateGlobalMotion, the
// reference), over two luma planes of w×h floats. Everything in double, in the reference's order
// of operations (wasm has no fused multiply-add to reorder it), so the fit is the same to the bit.

#define TILES 4

EXPORT(gm_shifted_error)
double gm_shifted_error(const float *ref, const float *cur, int w, int h, int dx, int dy, int step) {
  double s = 0, s2 = 0;
  int n = 0;
  const int y0 = -dy > 0 ? -dy : 0, y1 = h - dy < h ? h - dy : h, x0 = -dx > 0 ? -dx : 0, x1 = w - dx < w ? w - dx : w;
  for (int y = y0; y < y1; y += step) {
    for (int x = x0; x < x1; x += step) {
      const double d = (double)cur[y * w + x] - (double)ref[(y + dy) * w + x + dx];
      s += d; s2 += d * d; n++;
    }
  }
  if (!n) return __builtin_inf();
  const double m = s / n;
  return s2 / n - m * m;
}

EXPORT(gm_gradients)
void gm_gradients(const float *ref, int w, int h, float *gx, float *gy) {
  for (int i = 0; i < w * h; i++) { gx[i] = 0; gy[i] = 0; }
  for (int y = 1; y < h - 1; y++) {
    for (int x = 1; x < w - 1; x++) {
      const int i = y * w + x;
      gx[i] = (float)(0.5 * ((double)ref[i + 1] - (double)ref[i - 1]));
      gy[i] = (float)(0.5 * ((double)ref[i + w] - (double)ref[i - w]));
    }
  }
}

/**
 * The residual of cur against (1 + g)·ref(W(x)) + b, W the warp (tx, ty, k), on every `step`-th
 * row and column from 1: returns its mean
 * (Huber-weighted with `accumulate`, which also sums JᵀWJ's upper triangle into out[0..14] and
 * JᵀWr into out[15..19]); out[20] gets the pixel count.
 */
EXPORT(gm_residual)
double gm_residual(const float *rd, const float *cd, const float *gx, const float *gy, int w, int h,
                   double tx, double ty, double k, double g, double b, double huber, int accumulate, int step, double *out) {
  double H[15] = {0}, V[5] = {0}, e = 0;
  int n = 0;
  const double cx = (w - 1) / 2.0, cy = (h - 1) / 2.0;
  for (int y = 1; y < h - 1; y += step) {
    const double wy = y + ty + k * (y - cy);
    if (wy < 1 || wy >= h - 2) continue;
    const double fl = __builtin_floor(wy), fy = wy - fl, dyc = y - cy;
    const int y0 = (int)fl;
    for (int x = 1; x < w - 1; x += step) {
      const double wx = x + tx + k * (x - cx);
      if (wx < 1 || wx >= w - 2) continue;
      const double flx = __builtin_floor(wx), fx = wx - flx;
      const int i = y0 * w + (int)flx;
      const double w00 = (1 - fx) * (1 - fy), w01 = fx * (1 - fy), w10 = (1 - fx) * fy, w11 = fx * fy;
      const double r0 = rd[i] * w00 + rd[i + 1] * w01 + rd[i + w] * w10 + rd[i + w + 1] * w11;
      const double r = (1 + g) * r0 + b - cd[y * w + x];
      n++;
      if (!accumulate) { e += r * r; continue; }
      const double ar = r < 0 ? -r : r, wt = ar <= huber ? 1 : huber / ar;
      e += ar <= huber ? r * r : huber * (2 * ar - huber);
      const double ix = (1 + g) * (gx[i] * w00 + gx[i + 1] * w01 + gx[i + w] * w10 + gx[i + w + 1] * w11);
      const double iy = (1 + g) * (gy[i] * w00 + gy[i + 1] * w01 + gy[i + w] * w10 + gy[i + w + 1] * w11);
      const double j0 = ix, j1 = iy, j2 = ix * (x - cx) + iy * dyc, j3 = r0;
      H[0] += wt * j0 * j0; H[1] += wt * j0 * j1; H[2] += wt * j0 * j2; H[3] += wt * j0 * j3; H[4] += wt * j0;
      H[5] += wt * j1 * j1; H[6] += wt * j1 * j2; H[7] += wt * j1 * j3; H[8] += wt * j1;
      H[9] += wt * j2 * j2; H[10] += wt * j2 * j3; H[11] += wt * j2;
      H[12] += wt * j3 * j3; H[13] += wt * j3; H[14] += wt;
      V[0] += wt * j0 * r; V[1] += wt * j1 * r; V[2] += wt * j2 * r; V[3] += wt * j3 * r; V[4] += wt * r;
    }
  }
  for (int t = 0; t < 15; t++) out[t] = H[t];
  for (int t = 0; t < 5; t++) out[15 + t] = V[t];
  out[20] = n;
  return n ? e / n : __builtin_inf();
}

/** The still fit's sums over the pixels the warp covers: Σr, Σc, Σr², Σrc, Σc² into out[0..4], the count into out[5]. */
EXPORT(gm_still)
void gm_still(const float *rd, const float *cd, int w, int h, double tx, double ty, double k, double *out) {
  double sr = 0, sc = 0, srr = 0, src = 0, scc = 0;
  int n = 0;
  const double cx = (w - 1) / 2.0, cy = (h - 1) / 2.0;
  for (int y = 1; y < h - 1; y++) {
    const double wy = y + ty + k * (y - cy);
    if (wy < 1 || wy >= h - 2) continue;
    for (int x = 1; x < w - 1; x++) {
      const double wx = x + tx + k * (x - cx);
      if (wx < 1 || wx >= w - 2) continue;
      const double r = rd[y * w + x], c = cd[y * w + x];
      sr += r; sc += c; srr += r * r; src += r * c; scc += c * c; n++;
    }
  }
  out[0] = sr; out[1] = sc; out[2] = srr; out[3] = src; out[4] = scc; out[5] = n;
}

/** Per tile (TILES×TILES), the fit's and the still fit's squared residuals: out[0..15] and out[16..31]. */
EXPORT(gm_tiles)
void gm_tiles(const float *rd, const float *cd, int w, int h, double tx, double ty, double k, double g, double b,
              double rest_gain, double rest_offset, double *out) {
  double fit[TILES * TILES] = {0}, rest[TILES * TILES] = {0};
  const double cx = (w - 1) / 2.0, cy = (h - 1) / 2.0;
  for (int y = 1; y < h - 1; y++) {
    const double wy = y + ty + k * (y - cy);
    if (wy < 1 || wy >= h - 2) continue;
    const double fl = __builtin_floor(wy), fy = wy - fl;
    const int y0 = (int)fl;
    int ty0 = (int)__builtin_floor((double)(y * TILES) / h);
    ty0 = ty0 < TILES - 1 ? ty0 : TILES - 1;
    for (int x = 1; x < w - 1; x++) {
      const double wx = x + tx + k * (x - cx);
      if (wx < 1 || wx >= w - 2) continue;
      const double flx = __builtin_floor(wx), fx = wx - flx;
      const int i = y0 * w + (int)flx;
      const double c = cd[y * w + x];
      const double r0 = (rd[i] * (1 - fx) + rd[i + 1] * fx) * (1 - fy) + (rd[i + w] * (1 - fx) + rd[i + w + 1] * fx) * fy;
      int tx0 = (int)__builtin_floor((double)(x * TILES) / w);
      tx0 = tx0 < TILES - 1 ? tx0 : TILES - 1;
      const int t = ty0 * TILES + tx0;
      const double df = (1 + g) * r0 + b - c, dr = rest_gain * rd[y * w + x] + rest_offset - c;
      fit[t] += df * df;
      rest[t] += dr * dr;
    }
  }
  for (int t = 0; t < TILES * TILES; t++) { out[t] = fit[t]; out[TILES * TILES + t] = rest[t]; }
}

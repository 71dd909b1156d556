// The 'grid' curve application's two full-resolution passes (src/enhance/grid-kernel.ts, the
// reference) in C for WebAssembly with 128-bit SIMD. V8 runs the TypeScript passes at ~30-40 ns
// a pixel; here the apply pass works on four pixels at once. Built by `npm run build:wasm`
// (clang's wasm32 target, no libc): the .wasm beside this file is committed, so installing
// pie-stream needs no compiler, and a test rebuilds it where clang is present to catch drift.
// Memory is laid out by the caller (src/enhance/grid-wasm.ts): every pointer is an offset in
// this module's linear memory, nothing is allocated here.
#include <stdint.h>
#include <wasm_simd128.h>

typedef uint8_t u8;

#define EXPORT(name) __attribute__((export_name(#name)))

// ---------------------------------------------------------------------------------------------
// measure: the k×k box mean, the stride-4 sample and the luma's Immerkær noise σ, in one pass.

#define SAMPLE_STEP 4

EXPORT(measure)
double measure(const u8 *data, int width, int height, int k, float wr, float wg, float wb,
               float *small, float *sample, uint32_t *sums, float *rows) {
  const int w = (width + k - 1) / k, h = (height + k - 1) / k;
  const int ws = (width + SAMPLE_STEP - 1) / SAMPLE_STEP, hs = (height + SAMPLE_STEP - 1) / SAMPLE_STEP;
  const int plane = w * h, splane = ws * hs;
  for (int i = 0; i < 3 * plane; i++) sums[i] = 0;
  double abs_sum = 0;
  long count = 0;
  for (int y = 0; y < height; y++) {
    uint32_t *cell = sums + (y / k) * w;
    float *luma = rows + (y % 3) * width;
    const u8 *p = data + (long)y * width * 3;
    // Cells of k pixels: sums kept in registers along the run, one store per cell.
    for (int x0 = 0, c = 0; x0 < width; x0 += k, c++) {
      const int end = x0 + k < width ? x0 + k : width;
      uint32_t r = 0, g = 0, b = 0;
      for (int x = x0; x < end; x++) {
        const uint32_t R = p[3 * x], G = p[3 * x + 1], B = p[3 * x + 2];
        r += R; g += G; b += B;
        luma[x] = wr * (float)R + wg * (float)G + wb * (float)B;
      }
      cell[c] += r; cell[plane + c] += g; cell[2 * plane + c] += b;
    }
    if (y % SAMPLE_STEP == 0) {
      const int o = (y / SAMPLE_STEP) * ws;
      for (int sx = 0; sx < ws; sx++) {
        const u8 *q = p + 3 * SAMPLE_STEP * sx;
        sample[o + sx] = (float)(q[0] / 255.0);
        sample[splane + o + sx] = (float)(q[1] / 255.0);
        sample[2 * splane + o + sx] = (float)(q[2] / 255.0);
      }
    }
    // The 3×3 kernel's window is rows y−2..y with its top on an even row (stride 2, no padding).
    if (y >= 2 && y % 2 == 0) {
      const float *a = rows + ((y - 2) % 3) * width, *m = rows + ((y - 1) % 3) * width, *l = luma;
      float acc = 0;
      int n = 0;
      for (int x = 0; x + 2 < width; x += 2, n++) {
        const float r = a[x] - 2 * a[x + 1] + a[x + 2] - 2 * (m[x] - 2 * m[x + 1] + m[x + 2]) + l[x] - 2 * l[x + 1] + l[x + 2];
        acc += r < 0 ? -r : r;
      }
      abs_sum += acc;  // one row in float, the frame in double
      count += n;
    }
  }
  for (int cy = 0; cy < h; cy++) {
    const int ny = k < height - cy * k ? k : height - cy * k;
    for (int cx = 0; cx < w; cx++) {
      const double n = (double)ny * (k < width - cx * k ? k : width - cx * k) * 255;
      const int c = cy * w + cx;
      small[c] = (float)(sums[c] / n);
      small[plane + c] = (float)(sums[plane + c] / n);
      small[2 * plane + c] = (float)(sums[2 * plane + c] / n);
    }
  }
  // sqrt(π/2)/6, Immerkær's constant.
  return count ? (abs_sum / count / 255) * 0.20888568955258338 : 0;
}

// ---------------------------------------------------------------------------------------------
// apply: per pixel, the output V read from the four nearest cells' curves at V, blended
// bilinearly; headroom and gain caps, SNR weight, the colour rule, rounding half to even.

// The chroma gain's exponent, for the values the kernel does in closed form.
enum { SAT_QUARTER = 0, SAT_HALF = 1, SAT_ONE = 2, SAT_ZERO = 3 };

// Per input byte v: the table interval, its fraction, the headroom, 1/v and the chroma fade.
typedef struct { int32_t idx; float frac, head, inv, fade; } Level;

static inline v128_t chroma_gain(v128_t gain, int sat) {
  switch (sat) {
    case SAT_QUARTER: return wasm_f32x4_sqrt(wasm_f32x4_sqrt(gain));
    case SAT_HALF: return wasm_f32x4_sqrt(gain);
    case SAT_ONE: return gain;
    default: return wasm_f32x4_splat(1.0f);
  }
}

// Four pixels' colour rule and rounding: out = c·a + luma·(gain − a), saturated to bytes.
static inline void store4(u8 *o, v128_t R, v128_t G, v128_t B, v128_t gain, v128_t fade,
                          float colour, int sat, float wr, float wg, float wb) {
  const v128_t one = wasm_f32x4_splat(1.0f);
  const v128_t cg = chroma_gain(gain, sat);
  const v128_t a = wasm_f32x4_mul(wasm_f32x4_add(one, wasm_f32x4_mul(wasm_f32x4_sub(cg, one), fade)), wasm_f32x4_splat(colour));
  const v128_t luma = wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_splat(wr), R), wasm_f32x4_mul(wasm_f32x4_splat(wg), G)), wasm_f32x4_mul(wasm_f32x4_splat(wb), B));
  const v128_t l = wasm_f32x4_mul(luma, wasm_f32x4_sub(gain, a));
  // nearest = round half to even, as QuantizeLinear; the saturating conversions clamp to 0..255
  // (NaN to 0, as a Uint8ClampedArray stores it).
  const v128_t r = wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_nearest(wasm_f32x4_add(wasm_f32x4_mul(R, a), l)));
  const v128_t g = wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_nearest(wasm_f32x4_add(wasm_f32x4_mul(G, a), l)));
  const v128_t b = wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_nearest(wasm_f32x4_add(wasm_f32x4_mul(B, a), l)));
  const v128_t rg = wasm_u8x16_narrow_i16x8(wasm_i16x8_narrow_i32x4(r, g), wasm_i16x8_narrow_i32x4(b, b));
  // rg's bytes: r0 r1 r2 r3 g0 g1 g2 g3 b0 b1 b2 b3 …; interleave to r0 g0 b0 r1 …
  const v128_t px = wasm_i8x16_swizzle(rg, wasm_i8x16_make(0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11, 12, 12, 12, 12));
  wasm_v128_store64_lane(o, px, 0);
  wasm_v128_store32_lane(o + 8, px, 2);
}

EXPORT(apply)
void apply(const u8 *data, u8 *out, int width, int height,
           const float *table, const float *signal, int w, int K,
           const int32_t *col_lo, const int32_t *col_hi, const float *col_f,
           const int32_t *row_lo, const int32_t *row_hi, const float *row_f,
           const Level *lv, float max_gain, int sat, int mono, float wr, float wg, float wb,
           float *row_t, float *row_s) {
  const float colour = mono ? 0.0f : 1.0f;
  const v128_t one = wasm_f32x4_splat(1.0f), vmax = wasm_f32x4_splat(max_gain);
  for (int y = 0; y < height; y++) {
    // The two cell rows this pixel row lies between, blended once per row.
    const float fy = row_f[y], gy = 1 - fy;
    const float *t0 = table + (long)row_lo[y] * w * K, *t1 = table + (long)row_hi[y] * w * K;
    for (int i = 0; i < w * K; i++) row_t[i] = gy * t0[i] + fy * t1[i];
    const float *s0 = signal + row_lo[y] * w, *s1 = signal + row_hi[y] * w;
    for (int i = 0; i < w; i++) row_s[i] = gy * s0[i] + fy * s1[i];
    const u8 *p = data + (long)y * width * 3;
    u8 *o = out + (long)y * width * 3;
    int x = 0;
    // Four pixels a step: the lookups are scalar (no gather in wasm SIMD), the arithmetic is not.
    for (; x + 4 <= width; x += 4) {
      float Rf[4], Gf[4], Bf[4], v2[4], head[4], inv[4], fade[4], sig[4];
      for (int i = 0; i < 4; i++) {
        const u8 *q = p + 3 * (x + i);
        const int R = q[0], G = q[1], B = q[2];
        const int v = R > G ? (R > B ? R : B) : (G > B ? G : B);
        const Level *L = lv + v;
        const float fx = col_f[x + i];
        const float *a = row_t + col_lo[x + i] * K + L->idx, *b = row_t + col_hi[x + i] * K + L->idx;
        const float lo = a[0] + L->frac * (a[1] - a[0]), hi = b[0] + L->frac * (b[1] - b[0]);
        v2[i] = lo + fx * (hi - lo);
        const float sl = row_s[col_lo[x + i]];
        sig[i] = sl + fx * (row_s[col_hi[x + i]] - sl);
        Rf[i] = (float)R; Gf[i] = (float)G; Bf[i] = (float)B;
        head[i] = L->head; inv[i] = L->inv; fade[i] = L->fade;
      }
      v128_t g = wasm_f32x4_mul(wasm_f32x4_pmin(wasm_v128_load(head), wasm_v128_load(v2)), wasm_v128_load(inv));
      g = wasm_f32x4_pmin(vmax, g);
      g = wasm_f32x4_add(one, wasm_f32x4_mul(wasm_f32x4_sub(g, one), wasm_v128_load(sig)));
      // store4 writes exactly these four pixels' 12 bytes.
      store4(o + 3 * x, wasm_v128_load(Rf), wasm_v128_load(Gf), wasm_v128_load(Bf), g, wasm_v128_load(fade), colour, sat, wr, wg, wb);
    }
    // Widths that are not a multiple of 4: the rest one pixel at a time, through the same code.
    for (; x < width; x++) {
      float Rf[4] = {0}, Gf[4] = {0}, Bf[4] = {0}, gv[4] = {1, 1, 1, 1}, fd[4] = {0};
      const u8 *q = p + 3 * x;
      const int R = q[0], G = q[1], B = q[2];
      const int v = R > G ? (R > B ? R : B) : (G > B ? G : B);
      const Level *L = lv + v;
      const float fx = col_f[x];
      const float *a = row_t + col_lo[x] * K + L->idx, *b = row_t + col_hi[x] * K + L->idx;
      const float lo = a[0] + L->frac * (a[1] - a[0]), hi = b[0] + L->frac * (b[1] - b[0]);
      float v2 = lo + fx * (hi - lo);
      if (v2 > L->head) v2 = L->head;
      float gain = v2 * L->inv;
      if (gain > max_gain) gain = max_gain;
      const float sl = row_s[col_lo[x]];
      gain = 1 + (gain - 1) * (sl + fx * (row_s[col_hi[x]] - sl));
      Rf[0] = (float)R; Gf[0] = (float)G; Bf[0] = (float)B; gv[0] = gain; fd[0] = L->fade;
      u8 tail[12];
      store4(tail, wasm_v128_load(Rf), wasm_v128_load(Gf), wasm_v128_load(Bf), wasm_v128_load(gv), wasm_v128_load(fd), colour, sat, wr, wg, wb);
      o[3 * x] = tail[0]; o[3 * x + 1] = tail[1]; o[3 * x + 2] = tail[2];
    }
  }
}

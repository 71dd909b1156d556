import { describe, expect, it } from 'vitest';
import { denoiseImage, parseStillDenoise, STILL_BM3D_STRONG_FROM_SIGMA, STILL_CLEAN_BELOW, stillDenoiseFor } from '../../src/detect/denoise.js';
import { estimateNoise } from '../../src/detect/smooth.js';
import { isPieError } from '../../src/errors.js';
import type { RgbImage } from '../../src/image/types.js';
import { decodeToRawArgs, denoiseFilter } from '../../src/ingest/ffmpeg-args.js';
import { mulberry32 } from '../../src/train/boc.js';

describe('the decode builder\'s denoise option', () => {
  it('puts the denoiser first, before fps and scale, so a temporal one sees consecutive source frames', () => {
    expect(decodeToRawArgs({ input: 'cam.mp4', fps: 5, size: { width: 640, height: 360 }, denoise: { filter: 'hqdn3d', lumaSpatial: 4, lumaTemporal: 6 } })).toEqual([
      '-hide_banner', '-nostdin', '-loglevel', 'error', '-i', 'cam.mp4', '-map', '0:v:0', '-an', '-sn', '-dn',
      '-vf', 'hqdn3d=luma_spatial=4:luma_tmp=6,fps=5,scale=640:360', '-fps_mode', 'passthrough', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1']);
  });

  it('leaves the arguments exactly as before without it', () => {
    expect(decodeToRawArgs({ input: 'a.mp4', fps: 5 })).toContain('fps=5');
    expect(decodeToRawArgs({ input: 'a.mp4', fps: 5 }).join(' ')).not.toMatch(/hqdn3d|atadenoise|nlmeans/);
  });

  it('names each filter\'s options, and only those given (ffmpeg keeps its defaults for the rest)', () => {
    expect(denoiseFilter({ filter: 'hqdn3d' })).toBe('hqdn3d');
    expect(denoiseFilter({ filter: 'hqdn3d', lumaSpatial: 4, chromaSpatial: 3, lumaTemporal: 6, chromaTemporal: 4.5 })).toBe('hqdn3d=luma_spatial=4:chroma_spatial=3:luma_tmp=6:chroma_tmp=4.5');
    expect(denoiseFilter({ filter: 'atadenoise', frames: 9, thresholdA: 0.02, thresholdB: 0.04 })).toBe('atadenoise=0a=0.02:1a=0.02:2a=0.02:0b=0.04:1b=0.04:2b=0.04:s=9');
    expect(denoiseFilter({ filter: 'nlmeans', strength: 3, patch: 5, research: 9 })).toBe('nlmeans=s=3:p=5:r=9');
    expect(denoiseFilter({ filter: 'tmix', frames: 9 })).toBe('tmix=frames=9');
    expect(denoiseFilter({ filter: 'bm3d', sigma: 40, group: 8 })).toBe('bm3d=sigma=40:group=8');
    expect(denoiseFilter({ filter: 'bm3d', sigma: 40, yuv: true })).toBe('format=yuv444p,bm3d=sigma=40');
    // Both stages: the second filters the noisy frame again with the first's estimate as its reference.
    expect(denoiseFilter({ filter: 'bm3d', sigma: 35, stages: 2, yuv: true })).toBe(
      'format=yuv444p,split[bm3d_in][bm3d_src];[bm3d_in]bm3d=sigma=35:estim=basic[bm3d_ref];[bm3d_src][bm3d_ref]bm3d=sigma=35:estim=final:ref=1');
  });

  it('rejects values ffmpeg would refuse, before ffmpeg runs', () => {
    expect(() => denoiseFilter({ filter: 'atadenoise', frames: 8 })).toThrow(/odd integer/);
    expect(() => denoiseFilter({ filter: 'nlmeans', strength: 0 })).toThrow(RangeError);
    expect(() => denoiseFilter({ filter: 'hqdn3d', lumaSpatial: -1 })).toThrow(RangeError);
    expect(() => denoiseFilter({ filter: 'tmix', frames: 2.5 })).toThrow(RangeError);
    expect(() => denoiseFilter({ filter: 'bm3d', block: 8 })).toThrow(/block 8/);
    expect(() => denoiseFilter({ filter: 'bm3d', stages: 3 as 2 })).toThrow(/stages 3/);
  });
});

function noisy(w: number, h: number, sigma: number): RgbImage {
  const rng = mulberry32(7), data = new Uint8Array(w * h * 3);
  for (let i = 0; i < data.length; i++) data[i] = Math.max(0, Math.min(255, Math.round(100 + sigma * Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng()))));
  return { width: w, height: h, data };
}

describe('denoiseImage (real ffmpeg)', () => {
  it('returns an image of the same size with less noise, for hqdn3d and nlmeans', async () => {
    const src = noisy(97, 61, 12); // odd sizes: no chroma subsampling or padding may creep in
    // Both are edge-preserving and gentle at these strengths (the README's measurements: too gentle
    // for night noise, hence the adaptive smoothing in front of the detector); they must still remove some.
    for (const [d, atMost] of [[parseStillDenoise('hqdn3d')!, 0.97], [parseStillDenoise('nlmeans')!, 0.97]] as const) {
      const out = await denoiseImage(src, d);
      expect([out.width, out.height, out.data.length]).toEqual([97, 61, 97 * 61 * 3]);
      expect(estimateNoise(out)).toBeLessThan(estimateNoise(src) * atMost);
    }
  });

  it('the still path\'s BM3D: none on a clean photo, both stages in YUV at 2.5σ above σ 4.5 and 3.5σ from σ 8; on a noisy checker card it removes most of the noise, more than session 14\'s RGB first stage', async () => {
    expect(stillDenoiseFor(STILL_CLEAN_BELOW)).toBeUndefined();
    expect(stillDenoiseFor(Number.NaN)).toBeUndefined();
    expect(stillDenoiseFor(6)).toEqual({ filter: 'bm3d', sigma: 15, stages: 2, yuv: true });
    expect(stillDenoiseFor(STILL_BM3D_STRONG_FROM_SIGMA - 0.1)).toEqual({ filter: 'bm3d', sigma: 19.75, stages: 2, yuv: true });
    expect(stillDenoiseFor(10)).toEqual({ filter: 'bm3d', sigma: 35, stages: 2, yuv: true });
    // 8-px squares of 60 and 140 (edges for the block matching to respect), grey, Gaussian noise σ 12.
    const w = 97, h = 61, rng = mulberry32(7), clean = new Uint8Array(w * h * 3), data = new Uint8Array(w * h * 3);
    for (let i = 0; i < w * h; i++) {
      const v = (Math.floor((i % w) / 8) + Math.floor(i / w / 8)) % 2 ? 140 : 60;
      for (let c = 0; c < 3; c++) {
        clean[i * 3 + c] = v;
        data[i * 3 + c] = Math.max(0, Math.min(255, Math.round(v + 12 * Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng()))));
      }
    }
    const src = { width: w, height: h, data }, sigma = estimateNoise(src);
    const rmse = (img: RgbImage): number => Math.sqrt(img.data.reduce((a, v, i) => a + (v - clean[i]!) ** 2, 0) / img.data.length);
    const out = await denoiseImage(src, stillDenoiseFor(sigma)!);
    expect([out.width, out.height]).toEqual([w, h]);
    const before = await denoiseImage(src, { filter: 'bm3d', sigma: 4 * sigma });
    // Measured: noisy 12.0, session 14's 5.8, the default 3.0 levels RMSE.
    expect(rmse(out)).toBeLessThan(rmse(src) * 0.35);
    expect(rmse(out)).toBeLessThan(rmse(before) * 0.75);
  });

  it('refuses a temporal denoiser on a still, and an unknown name', async () => {
    const e = await denoiseImage(noisy(8, 8, 1), { filter: 'atadenoise' }).then(() => undefined, (err: unknown) => err);
    expect(isPieError(e, 'config')).toBe(true);
    expect(isPieError(await denoiseImage(noisy(8, 8, 1), { filter: 'tmix' }).then(() => undefined, (err: unknown) => err), 'config')).toBe(true);
    expect(() => parseStillDenoise('bm3d')).toThrow(/not a still denoiser/);
    expect(parseStillDenoise('none')).toBeUndefined();
  });
});

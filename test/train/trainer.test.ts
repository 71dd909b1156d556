import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadDceNetModel } from '../../src/enhance/model-file.js';
import { Enhancer } from '../../src/enhance/enhancer.js';
import { encodeImage } from '../../src/image/io.js';
import type { RgbImage } from '../../src/image/types.js';
import { PIE_WEIGHTS } from '../../src/train/step.js';
import { train, type Segmenter } from '../../src/train/trainer.js';
import { meanOf } from '../helpers/media.js';

/** 8×8 blocks: a stand-in segmentation for testing the loop (Felzenszwalb is tested on its own). */
const blocks: Segmenter = (img) => {
  const per = Math.ceil(img.width / 8);
  const labels = Int32Array.from({ length: img.width * img.height }, (_, p) => Math.floor(Math.floor(p / img.width) / 8) * per + Math.floor((p % img.width) / 8));
  return { labels, count: per * Math.ceil(img.height / 8) };
};

function scene(w: number, h: number, seed: number, gain: number): RgbImage {
  const d = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const v = 0.5 + 0.5 * Math.sin((x + seed * 7) / 6) * Math.cos((y + seed) / 5);
    const i = (y * w + x) * 3;
    d[i] = Math.min(255, gain * 255 * v); d[i + 1] = Math.min(255, gain * 230 * v); d[i + 2] = Math.min(255, gain * 200 * (1 - v * 0.5));
  }
  return { width: w, height: h, data: d };
}

async function folders() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pie-train-'));
  const low = path.join(root, 'low'), pos = path.join(root, 'pos');
  fs.mkdirSync(low); fs.mkdirSync(pos);
  for (let i = 0; i < 4; i++) {
    fs.writeFileSync(path.join(low, `l${i}.png`), await encodeImage(scene(40, 36, i, 0.12), 'x.png'));
    fs.writeFileSync(path.join(pos, `p${i}.jpg`), await encodeImage(scene(44, 40, i + 9, 0.8), 'x.jpg'));
  }
  fs.writeFileSync(path.join(low, 'tiny.png'), await encodeImage(scene(8, 8, 1, 0.1), 'x.png')); // smaller than the crop
  fs.writeFileSync(path.join(low, 'broken.jpg'), 'not an image');
  return { root, low, pos };
}

// No feature network: the self-contained loop trains TV, color, region and triplet terms.
const weights = { ...PIE_WEIGHTS, perceptual: 0, nce: 0 };

describe('pie-stream train loop', () => {
  it('trains, skips bad files, logs, checkpoints, resumes to the same result, and exports a model enhance runs', async () => {
    const { root, low, pos } = await folders();
    const common = { inputs: low, positives: pos, crop: 24, batch: 2, lr: 3e-3, seed: 7, weights, segment: blocks, checkpointEvery: 3 };
    const out = path.join(root, 'model.onnx');
    const full = await train({ ...common, out, steps: 6 });
    expect(full.history).toHaveLength(6);
    expect(full.skipped.inputs).toBeGreaterThanOrEqual(1);
    expect(fs.readFileSync(`${out}.log.csv`, 'utf8').trim().split('\n')).toHaveLength(7);
    for (const r of full.history) expect(Number.isFinite(r.losses.total)).toBe(true);

    // Train 3 steps, then resume to 6: the same parameters as the straight run.
    const out2 = path.join(root, 'resumed.onnx');
    await train({ ...common, out: out2, steps: 3 });
    const resumed = await train({ ...common, out: out2, steps: 6, resume: true });
    expect(resumed.history.map((r) => r.step)).toEqual([4, 5, 6]);
    const a = (await loadDceNetModel(out)).weights, b = (await loadDceNetModel(out2)).weights;
    expect(Array.from(b.e_conv7.bias.data)).toEqual(Array.from(a.e_conv7.bias.data));

    // The export is a model the enhancer runs.
    const enh = await Enhancer.open({ modelPath: out });
    const img = scene(24, 24, 3, 0.1);
    const [res] = (await enh.enhance([img])).frames;
    expect(Number.isFinite(meanOf(res!.data))).toBe(true);
    await enh.close();
  }, 120_000);

  it('lowers the loss over 40 steps on unpaired dark inputs and bright positives', async () => {
    const { root, low, pos } = await folders();
    const r = await train({ inputs: low, positives: pos, out: path.join(root, 'm.onnx'), crop: 24, batch: 2, lr: 1e-2, seed: 3, weights, segment: blocks, steps: 40 });
    const first = r.history.slice(0, 5).reduce((s, h) => s + h.losses.total, 0) / 5;
    const last = r.history.slice(-5).reduce((s, h) => s + h.losses.total, 0) / 5;
    expect(last).toBeLessThan(first);
  }, 120_000);

  it('applies the weight decay it is given (Adam L2: every weight pulled towards 0)', async () => {
    const { root, low, pos } = await folders();
    const common = { inputs: low, positives: pos, crop: 24, batch: 2, lr: 1e-2, seed: 5, weights, segment: blocks, steps: 3 };
    const norm = async (f: string): Promise<number> => {
      const w = (await loadDceNetModel(f)).weights;
      return Object.values(w).reduce((s, p) => s + p.weight.data.reduce((a, x) => a + Math.abs(x), 0), 0);
    };
    const none = path.join(root, 'wd0.onnx'), strong = path.join(root, 'wd.onnx');
    await train({ ...common, out: none, weightDecay: 0 });
    await train({ ...common, out: strong, weightDecay: 1e3 });
    // The decay term dominates the gradient, so Adam moves each weight ~lr towards 0 every step.
    expect(await norm(strong)).toBeLessThan(0.9 * (await norm(none)));
    expect((await loadDceNetModel(none)).metadata.trained).toMatch(/weight decay 0,/);
  }, 120_000);

  it('says what is wrong with empty or missing folders', async () => {
    const { root, pos } = await folders();
    const empty = path.join(root, 'empty');
    fs.mkdirSync(empty);
    const base = { positives: pos, out: path.join(root, 'x.onnx'), crop: 24, batch: 2, lr: 1e-3, seed: 1, weights, segment: blocks, steps: 1 };
    await expect(train({ ...base, inputs: empty })).rejects.toThrow(/inputs folder .*empty has no images/);
    await expect(train({ ...base, inputs: path.join(root, 'nope') })).rejects.toThrow(/cannot be read/);
    await expect(train({ ...base, inputs: pos, crop: 200 })).rejects.toThrow(/no usable inputs images: 0 unreadable, 4 smaller than the 200px crop/);
  }, 60_000);
});

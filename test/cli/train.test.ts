import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.js';
import { encodeImage } from '../../src/image/io.js';
import { inspectModel } from '../../src/onnx/inspect.js';
import { darkImage } from '../helpers/media.js';


describe('pie-stream train', () => {
  it('trains from folders and writes the model, a CSV log, a loss plot and a checkpoint', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pie-train-cli-'));
    const low = path.join(root, 'low'), pos = path.join(root, 'pos');
    fs.mkdirSync(low); fs.mkdirSync(pos);
    for (let i = 0; i < 3; i++) {
      fs.writeFileSync(path.join(low, `${i}.png`), await encodeImage(darkImage(40, 32, i), 'x.png'));
      const bright = darkImage(40, 32, i + 5);
      fs.writeFileSync(path.join(pos, `${i}.png`), await encodeImage({ ...bright, data: bright.data.map((v) => Math.min(255, v * 5)) }, 'x.png'));
    }
    const out = path.join(root, 'models', 'site.onnx');
    const r = await cli('train', '--inputs', low, '--positives', pos, '--out', out, '--steps', '4', '--crop', '24', '--lr', '1e-3', '--checkpoint-every', '2', '--features', 'none');
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/no feature network: the perceptual and contrastive terms are off/);
    expect(r.err).toMatch(/train 100% 4\/4/);
    for (const f of [out, `${out}.log.csv`, `${out}.losses.png`, `${out}.checkpoint.onnx`]) expect(fs.existsSync(f), f).toBe(true);
    expect(inspectModel(fs.readFileSync(out)).metadata.trained).toMatch(/4 steps, crop 24/);
    expect(Date.now() - Date.parse(inspectModel(fs.readFileSync(out)).metadata.date!)).toBeLessThan(600_000);
    // The PNG is a real image of the plot.
    expect(fs.readFileSync(`${out}.losses.png`).subarray(1, 4).toString()).toBe('PNG');
  }, 60_000);

  it('trains with all six terms on the shipped BlazeFace backbone by default', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pie-train-bf-'));
    const low = path.join(root, 'low'), pos = path.join(root, 'pos');
    fs.mkdirSync(low); fs.mkdirSync(pos);
    for (let i = 0; i < 2; i++) {
      fs.writeFileSync(path.join(low, `${i}.png`), await encodeImage(darkImage(40, 40, i), 'x.png'));
      fs.writeFileSync(path.join(pos, `${i}.png`), await encodeImage(darkImage(40, 40, i + 3), 'x.png'));
    }
    const out = path.join(root, 'm.onnx');
    const r = await cli('train', '--inputs', low, '--positives', pos, '--out', out, '--steps', '2', '--crop', '32');
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/features blazeface-back/);
    const header = fs.readFileSync(`${out}.log.csv`, 'utf8').split('\n')[1]!.split(',').map(Number);
    expect(header.slice(1, 8).every((v) => Number.isFinite(v))).toBe(true);
    expect(header[3]).toBeGreaterThan(0); // perceptual term is on
  }, 60_000);

  it('rejects bad values and a feature network it does not know', async () => {
    expect((await cli('train', '--inputs', 'a', '--positives', 'b', '--out', 'c', '--w-tv', '-1')).err).toMatch(/--w-tv -1 is not a non-negative number/);
    expect((await cli('train', '--inputs', 'a', '--positives', 'b', '--out', 'c', '--features', '/nonexistent.onnx')).err).toMatch(/--features \/nonexistent\.onnx: no such file/);
  });
});

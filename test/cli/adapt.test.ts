// `pie-stream adapt` on generated footage: a dark synthetic clip as the camera's night, a folder of
// bright images as its day. A useless base (the identity) must be improved and replaced; a run that
// cannot improve it (lr 0) must be rejected and leave the camera's current model alone.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adaptFootage } from '../helpers/adapt-footage.js';
import { cli } from '../helpers/cli.js';

let dir: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pie-adapt-test-'));
  await adaptFootage(dir);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const args = (outDir: string, lr: string): string[] => ['adapt', '-q', '--camera', 'yard', '--night', path.join(dir, 'night.mp4'), '--day', path.join(dir, 'day'),
  '--base', path.join(dir, 'identity.onnx'), '--out-dir', outDir, '--work-dir', path.join(dir, 'work'), '--steps', '12', '--crop', '32', '--batch', '2',
  '--lr', lr, '--sample-fps', '5', '--holdout', '0.25', '--features', 'none', '--threads', '1'];

describe('pie-stream adapt', () => {
  it('fine-tunes on the camera\'s night frames with its day frames as positives, validates on held-out frames, and replaces a worse model', async () => {
    const out = path.join(dir, 'models');
    const r = await cli(...args(out, '3e-3'));
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/yard: 8 night frames to train on, 2 held out, 3 positives \(day\)/);
    expect(r.err).toMatch(/accepted: .*yard\.onnx/);
    expect(fs.existsSync(path.join(out, 'yard.onnx'))).toBe(true);
    const card = fs.readFileSync(path.join(out, 'yard.md'), 'utf8');
    expect(card).toMatch(/\*\*Accepted\*\*/);
    const row = (name: string): number => Number(new RegExp(`\\| ${name} \\| ([0-9.e+-]+) \\|`).exec(card)![1]);
    expect(row('adapted')).toBeLessThan(row('base'));
    // The picture figures on the held-out frames: the identity base leaves them as dark as they came.
    const bright = [...card.matchAll(/\| (base|adapted) \| (0\.\d{3}) \| [\d.]+ \| [\d.]+ \| [\d.]+ \|/g)].map((m) => Number(m[2]));
    expect(bright).toHaveLength(2);
    expect(bright[1]!).toBeGreaterThan(bright[0]!);
    // The scratch frames are gone.
    expect(fs.readdirSync(path.join(dir, 'work'))).toEqual([]);
  }, 120_000);

  it('keeps the camera\'s current model when validation did not improve', async () => {
    const out = path.join(dir, 'models2');
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, 'yard.onnx'), 'the current model');
    const r = await cli(...args(out, '1e-12'));
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/rejected: held-out loss/);
    expect(fs.readFileSync(path.join(out, 'yard.onnx'), 'utf8')).toBe('the current model');
    expect(fs.existsSync(path.join(out, 'yard.candidate.onnx'))).toBe(true);
    expect(fs.readFileSync(path.join(out, 'yard.md'), 'utf8')).toMatch(/\*\*Rejected\*\*.*keeps its current `yard\.onnx`/);
  }, 120_000);

  it('records a configured camera live as the night source', async () => {
    const cfg = path.join(dir, 'cams.yaml');
    fs.writeFileSync(cfg, 'cameras:\n  - name: yard\n    input: "synthetic:exposure=0.08,noise=4"\n    width: 96\n    height: 64\n    fps: 10\n');
    const out = path.join(dir, 'models-live');
    const r = await cli('adapt', '-q', '--camera', 'yard', '--night', 'camera:yard', '-c', cfg, '--minutes', '0.06', '--day', path.join(dir, 'day'),
      '--base', path.join(dir, 'identity.onnx'), '--out-dir', out, '--work-dir', path.join(dir, 'work-live'), '--steps', '4', '--crop', '32', '--batch', '2',
      '--lr', '3e-3', '--sample-fps', '4', '--holdout', '0.25', '--features', 'none', '--threads', '1');
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/recording yard for 3\.6 s at 4 fps/);
    const m = /yard: (\d+) night frames to train on, (\d+) held out/.exec(r.err);
    expect(Number(m![1]) + Number(m![2])).toBeGreaterThanOrEqual(6);
    expect(fs.existsSync(path.join(out, 'yard.md'))).toBe(true);
    const bad = await cli('adapt', '-q', '--camera', 'yard', '--night', 'camera:nope', '-c', cfg, '--base', path.join(dir, 'identity.onnx'), '--out-dir', out, '--work-dir', path.join(dir, 'work-live'));
    expect(bad.err).toMatch(/no camera nope in the config.*\n.*fix: name one of: yard/s);
  }, 120_000);

  it('says what is missing', async () => {
    let r = await cli('adapt', '-q', '--camera', 'yard', '--night', path.join(dir, 'nope.mp4'), '--base', path.join(dir, 'identity.onnx'), '--out-dir', path.join(dir, 'm3'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/night source .*nope\.mp4 does not exist/);
    r = await cli('adapt', '-q', '--camera', 'Bad Name', '--night', path.join(dir, 'night.mp4'), '--base', path.join(dir, 'identity.onnx'));
    expect(r.code).toBe(2);
    r = await cli('adapt', '-q', '--camera', 'yard', '--night', path.join(dir, 'night.mp4'), '--base', path.join(dir, 'identity.onnx'), '--out-dir', path.join(dir, 'm4'), '--work-dir', path.join(dir, 'w4'), '--features', 'none', '--sample-fps', '5');
    expect(r.err).toMatch(/adapt needs positives/);
    r = await cli('adapt', '-q', '--camera', 'yard', '--night', path.join(dir, 'night.mp4'), '--base', path.join(dir, 'identity.onnx'), '--out-dir', path.join(dir, 'm5'), '--work-dir', path.join(dir, 'w5'), '--positives', path.join(dir, 'day'));
    expect(r.err).toMatch(/only 2 night frame\(s\): too few/);
  }, 60_000);
});

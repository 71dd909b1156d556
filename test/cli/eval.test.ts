// `pie-stream eval` end to end on generated data: real-style dark images, normal-light images to
// darken, a dark clip; every baseline plus the shipped model and a command enhancer.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeImage } from '../../src/image/io.js';
import type { EvalReport } from '../../src/eval/report.js';
import { cli } from '../helpers/cli.js';
import { darkImage, makeClip } from '../helpers/media.js';

let dir: string;
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pie-eval-test-'));
  fs.mkdirSync(path.join(dir, 'dark'));
  fs.mkdirSync(path.join(dir, 'normal'));
  for (let i = 0; i < 2; i++) {
    await writeImage(darkImage(80, 64, i + 1), path.join(dir, 'dark', `d${i}.png`));
    // A normal-light image: the dark gradient brightened ×4.
    const n = darkImage(80, 64, i + 5);
    await writeImage({ ...n, data: n.data.map((v) => Math.min(255, v * 4)) }, path.join(dir, 'normal', `n${i}.png`));
  }
  await makeClip(path.join(dir, 'clip.mp4'), { width: 96, height: 64, fps: 10, seconds: 1 });
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('pie-stream eval', () => {
  it('reports every enhancer on every dataset, with grids, in Markdown and JSON', async () => {
    const out = path.join(dir, 'report');
    const r = await cli('eval', '-q', '-o', out, '--images', path.join(dir, 'dark'), '--synthetic', path.join(dir, 'normal'), '--full-wells', '100,1000',
      '--video', path.join(dir, 'clip.mp4'), '--video-seconds', '1', '--scale', '1/2',
      '--enhancer', 'identity', 'gamma', 'clahe', 'models/pie-default.onnx', 'bright=models/pie-default.onnx,exposure=0.5', 'copy=cmd:cp {in} {out}');
    expect(r.code, r.err).toBe(0);
    const report = JSON.parse(fs.readFileSync(path.join(out, 'report.json'), 'utf8')) as EvalReport;
    expect(report.datasets.map((d) => d.kind)).toEqual(['real', 'synthetic', 'synthetic', 'video']);
    for (const d of report.datasets) {
      expect(Object.keys(d.stages)).toEqual(['identity', 'gamma', 'clahe', 'pie-default', 'bright', 'copy']);
      expect(fs.statSync(path.join(out, d.grid!)).size).toBeGreaterThan(1000);
      // identity and a copying command change nothing.
      expect(d.stages.identity!.brightness).toBeCloseTo(d.input.brightness, 6);
      expect(d.stages.copy!.brightness).toBeCloseTo(d.input.brightness, 6);
      expect(d.stages.identity!.loe).toBe(0);
    }
    const [real, fw100, fw1000, video] = report.datasets as [EvalReport['datasets'][0], EvalReport['datasets'][0], EvalReport['datasets'][0], EvalReport['datasets'][0]];
    expect(real.stages.gamma!.brightness).toBeCloseTo(0.45, 1);
    expect(real.stages.bright!.brightness).toBeGreaterThan(0.45);
    // Less noise, closer to the original.
    expect(fw1000.stages.gamma!.psnr!).toBeGreaterThan(fw100.stages.gamma!.psnr!);
    expect(fw1000.stages.gamma!.psnr!).toBeGreaterThan(fw1000.input.psnr!);
    expect(video.stages.identity!.flicker).toBeCloseTo(1, 6);
    expect(video.stages['pie-default']!.flicker).toBeGreaterThan(1);
    const md = fs.readFileSync(path.join(out, 'report.md'), 'utf8');
    expect(md).toMatch(/\| gamma \| 0\.4\d\d \|/);
    expect(md).toContain('![normal-night-fw100](grid-normal-night-fw100.png)');
  }, 60_000);

  it('says what is wrong with a bad enhancer or no data', async () => {
    const out = path.join(dir, 'bad');
    let r = await cli('eval', '-q', '-o', out, '--images', path.join(dir, 'dark'), '--enhancer', 'nosuch.onnx');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/nosuch\.onnx does not exist/);
    r = await cli('eval', '-q', '-o', out, '--images', path.join(dir, 'dark'), '--enhancer', 'models/pie-default.onnx,exposure=7');
    expect(r.err).toMatch(/exposure=auto\|model\|0–1/);
    r = await cli('eval', '-q', '-o', out);
    expect(r.err).toMatch(/nothing to evaluate/);
    r = await cli('eval', '-q', '-o', out, '--images', path.join(dir, 'dark'), '--enhancer', 'x=cmd:false {in} {out}');
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/command 'false .*' failed/);
  }, 30_000);
});

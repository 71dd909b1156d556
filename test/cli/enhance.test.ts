import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.js';
import { encodeImage, readImage } from '../../src/image/io.js';
import { runTool } from '../../src/ingest/ffmpeg-process.js';
import { probeMedia } from '../../src/ingest/probe.js';
import { GraphBuilder } from '../../src/onnx/builder.js';
import { darkImage, decodeAll, makeClip, meanOf } from '../helpers/media.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pie-cli-'));
const inDir = path.join(root, 'in');
const sha = (f: string): string => crypto.createHash('sha1').update(fs.readFileSync(f)).digest('hex');


beforeAll(async () => {
  fs.mkdirSync(inDir, { recursive: true });
  // Same-size images (one batch) in four formats, plus one of another size.
  for (const [name, seed] of [['a.png', 1], ['b.jpg', 2], ['c.bmp', 3], ['d.webp', 4]] as const) {
    fs.writeFileSync(path.join(inDir, name), await encodeImage(darkImage(48, 32, seed), name));
  }
  fs.writeFileSync(path.join(inDir, 'e.png'), await encodeImage(darkImage(30, 20, 5), 'e.png'));
  await makeClip(path.join(root, 'clip.mp4'), { width: 96, height: 64, fps: 10, seconds: 1.2, audio: true });
}, 60_000);

describe('pie-stream enhance', () => {
  it('enhances a folder of jpg, png, bmp and webp images: brighter, same size, inputs untouched', async () => {
    const before = fs.readdirSync(inDir).map((f) => sha(path.join(inDir, f)));
    const out = path.join(root, 'out-images');
    const r = await cli('enhance', inDir, '-o', out, '--batch', '4', '--scale', '1/2');
    expect(r.err).toMatch(/execution provider: cpu/);
    expect(r.code).toBe(0);
    for (const f of fs.readdirSync(inDir)) {
      const a = await readImage(path.join(inDir, f));
      const b = await readImage(path.join(out, f));
      expect([b.width, b.height]).toEqual([a.width, a.height]);
      expect(meanOf(b.data)).toBeGreaterThan(meanOf(a.data) + 0.15);
    }
    expect(fs.readdirSync(inDir).map((f) => sha(path.join(inDir, f)))).toEqual(before);
  });

  it('enhances a single image into a named file', async () => {
    const out = path.join(root, 'single.png');
    expect((await cli('enhance', path.join(inDir, 'b.jpg'), '-o', out, '-q')).code).toBe(0);
    expect((await readImage(out)).width).toBe(48);
  });

  it('enhances a video: every frame, brighter, H.264, audio kept', async () => {
    const out = path.join(root, 'out-video');
    const r = await cli('enhance', path.join(root, 'clip.mp4'), '-o', out, '--batch', '3', '--scale', '1/4');
    expect(r.code).toBe(0);
    const src = await probeMedia(path.join(root, 'clip.mp4'));
    const dst = await probeMedia(path.join(out, 'clip.mp4'));
    expect(dst.videoCodec).toBe('h264');
    expect(dst.audioCodec).toBe('aac');
    expect([dst.width, dst.height]).toEqual([96, 64]);
    const a = await decodeAll(path.join(root, 'clip.mp4'), 96, 64);
    const b = await decodeAll(path.join(out, 'clip.mp4'), 96, 64);
    expect(b.length).toBe(a.length);
    expect(b.length).toBe(src.frames);
    for (let i = 0; i < a.length; i++) expect(meanOf(b[i]!)).toBeGreaterThan(2 * meanOf(a[i]!) + 0.02);
    expect(fs.readdirSync(out)).toEqual(['clip.mp4']); // no temp files left
  });

  it('denoises a video temporally before the curves: steadier than without, as bright', async () => {
    // A fixed camera: a dark still scene for 2 s (its counter changes once) with fresh grain every frame.
    const clip = path.join(root, 'static.mp4');
    await runTool(['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i',
      'testsrc=s=96x64:r=1:d=2,fps=10,lutrgb=r=val*0.15:g=val*0.15:b=val*0.15,noise=alls=25:allf=t+u', '-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '10', '-pix_fmt', 'yuv444p', clip]);
    const off = path.join(root, 'out-off'), on = path.join(root, 'out-temporal');
    expect((await cli('enhance', clip, '-o', off, '--scale', '1/4', '--denoise', 'off')).code).toBe(0);
    expect((await cli('enhance', clip, '-o', on, '--scale', '1/4', '--denoise', 'temporal')).code).toBe(0);
    const a = await decodeAll(path.join(off, 'static.mp4'), 96, 64), b = await decodeAll(path.join(on, 'static.mp4'), 96, 64);
    expect(b.length).toBe(20);
    const diff = (fs: readonly Uint8Array[]): number => fs.slice(1).reduce((s, f, i) => s + f.reduce((t, v, j) => t + Math.abs(v - fs[i]![j]!), 0) / f.length, 0) / (fs.length - 1);
    expect(diff(b)).toBeLessThan(diff(a) * 0.8);
    const mean = (fs: readonly Uint8Array[]): number => fs.reduce((s, f) => s + meanOf(f), 0) / fs.length;
    expect(Math.abs(mean(b) - mean(a))).toBeLessThan(0.1);
  });

  it('goes on past bad files in a folder and lists them at the end', async () => {
    const dir = path.join(root, 'mixed');
    fs.mkdirSync(dir);
    fs.copyFileSync(path.join(inDir, 'a.png'), path.join(dir, 'good.png'));
    fs.writeFileSync(path.join(dir, 'corrupt.jpg'), Buffer.from('this is not a jpeg'));
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'hello');
    const valid = fs.readFileSync(path.join(root, 'clip.mp4'));
    fs.writeFileSync(path.join(dir, 'truncated.mp4'), valid.subarray(0, 600));
    const out = path.join(root, 'out-mixed');
    const r = await cli('enhance', dir, '-o', out, '-q');
    expect(r.code).toBe(1);
    expect(fs.existsSync(path.join(out, 'good.png'))).toBe(true);
    expect(r.err).toMatch(/2 file\(s\) failed/);
    expect(r.err).toMatch(/corrupt\.jpg: cannot decode as an image/);
    // Not media: skipped and counted, not a failure.
    expect(r.err).toMatch(/skipped 1 file\(s\) that are not images or videos: notes\.txt/);
    expect(r.err).not.toMatch(/notes\.txt: not an image/);
    expect(r.err).toMatch(/truncated\.mp4: /);
    expect(fs.readdirSync(out).sort()).toEqual(['good.png']);
  });

  it('names a missing input and the fix', async () => {
    const r = await cli('enhance', path.join(root, 'nope.png'), '-o', path.join(root, 'x'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/nope\.png: no such file or folder\n\s+fix: check the path/);
  });

  it('succeeds on a folder of images with a labels .json beside them', async () => {
    const dir = path.join(root, 'labelled');
    fs.mkdirSync(dir);
    fs.copyFileSync(path.join(inDir, 'a.png'), path.join(dir, 'a.png'));
    fs.writeFileSync(path.join(dir, 'labels.json'), '{"a.png": []}');
    const r = await cli('enhance', dir, '-o', path.join(root, 'out-labelled'), '-q');
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/skipped 1 file\(s\) that are not images or videos: labels\.json/);
    // Named on the command line, a non-media file is still an error.
    expect((await cli('enhance', path.join(dir, 'labels.json'), '-o', path.join(root, 'out-json'))).err).toMatch(/labels\.json: not an image/);
  });

  it('refuses to overwrite an input', async () => {
    const before = sha(path.join(inDir, 'a.png'));
    const r = await cli('enhance', inDir, '-o', inDir);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/refusing to overwrite the input/);
    const r2 = await cli('enhance', path.join(inDir, 'a.png'), '-o', path.join(inDir, 'a.png'));
    expect(r2.err).toMatch(/refusing to overwrite/);
    expect(sha(path.join(inDir, 'a.png'))).toBe(before);
  });

  it('says when the model file is missing, or is not a DCE-Net', async () => {
    const missing = await cli('enhance', inDir, '-o', path.join(root, 'm1'), '--model', path.join(root, 'none.onnx'));
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/cannot read model .*none\.onnx/);
    expect(missing.err).toMatch(/fix:/);
    const b = new GraphBuilder('other');
    b.output(b.relu(b.input('data', 'float32', [1, 3, 'H', 'W'])), 'float32', undefined, 'y');
    const other = path.join(root, 'other.onnx');
    fs.writeFileSync(other, b.toBytes());
    const wrong = await cli('enhance', inDir, '-o', path.join(root, 'm2'), '--model', other);
    expect(wrong.code).toBe(1);
    expect(wrong.err).toMatch(/other\.onnx is not a DCE-Net model: it has no initializer e_conv1\.weight \[32,3,3,3\]/);
    expect(wrong.err).toMatch(/inputs: data float32/);
    const garbage = path.join(root, 'garbage.onnx');
    fs.writeFileSync(garbage, 'not a model');
    expect((await cli('enhance', inDir, '-o', path.join(root, 'm3'), '--model', garbage)).err).toMatch(/is not an ONNX model/);
  });

  it('rejects bad flag values with usage errors', async () => {
    const s = await cli('enhance', inDir, '-o', path.join(root, 'u'), '--scale', '4');
    expect(s.code).toBe(2);
    expect(s.err).toMatch(/did you mean 1\/4/);
    expect((await cli('enhance', inDir, '-o', path.join(root, 'u'), '--ep', 'tpu')).err).toMatch(/use one of auto, cpu, webgpu, cuda/);
    expect((await cli('enhance', inDir, '-o', path.join(root, 'u'), '--batch', '0')).code).toBe(2);
  });

  it('falls back from an unavailable provider under auto and says why', async () => {
    const r = await cli('enhance', path.join(inDir, 'a.png'), '-o', path.join(root, 'auto.png'), '--ep', 'auto');
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/execution provider: (cpu|webgpu|cuda)/);
    if (/execution provider: cpu/.test(r.err)) expect(r.err).toMatch(/cuda unavailable: .+; webgpu unavailable: .+/);
  });
});

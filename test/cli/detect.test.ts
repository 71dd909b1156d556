import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parsePositiveInt, parseProvider, parseScale } from '../../src/cli/args.js';
import { detectOptionsFromFlags, runDetect, TEMPORAL_DENOISE_DEFAULT, type ImageFacesJson, type VideoFacesJson } from '../../src/cli/detect.js';
import { isPieError } from '../../src/errors.js';
import { encodeImage, readImage } from '../../src/image/io.js';
import { runTool } from '../../src/ingest/ffmpeg-process.js';
import { probeMedia } from '../../src/ingest/probe.js';
import { darkImage, makeClip } from '../helpers/media.js';
import { sharedPath, skipReason } from '../helpers/shared.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pie-detect-'));
const quiet = (): void => {};
const readJson = <T>(f: string): T => JSON.parse(fs.readFileSync(f, 'utf8')) as T;
const leftovers = (dir: string): string[] => fs.readdirSync(dir).filter((f) => f.includes('.partial-'));

async function expectPieError(p: Promise<unknown>, kind: string, message: RegExp): Promise<void> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(isPieError(e)).toBe(true);
  expect((e as { kind: string }).kind).toBe(kind);
  expect((e as Error).message).toMatch(message);
}

describe('pie-stream detect: inputs and errors (generated media)', () => {
  const inDir = path.join(root, 'gen');
  beforeAll(async () => {
    fs.mkdirSync(inDir, { recursive: true });
    fs.writeFileSync(path.join(inDir, 'dark.png'), await encodeImage(darkImage(96, 64), 'dark.png'));
    fs.writeFileSync(path.join(inDir, 'broken.jpg'), Buffer.from('not a jpeg at all'));
    fs.writeFileSync(path.join(inDir, 'notes.txt'), 'hello');
    await makeClip(path.join(inDir, 'clip.mp4'), { width: 96, height: 64, fps: 10, seconds: 1 });
    const whole = fs.readFileSync(path.join(inDir, 'clip.mp4'));
    fs.writeFileSync(path.join(inDir, 'truncated.mp4'), whole.subarray(0, Math.floor(whole.length / 3)));
  }, 60_000);

  it('goes on past bad files, names each one, and leaves nothing half-written', async () => {
    const out = path.join(root, 'out-gen');
    const r = await runDetect({ inputs: [inDir, path.join(root, 'missing.png')], output: out, quiet: true, fps: 4 }, quiet);
    expect(r.done.map((d) => path.basename(d.input)).sort()).toEqual(['clip.mp4', 'dark.png']);
    const msgs = r.failed.map((f) => f.message).join('\n');
    expect(msgs).toMatch(/broken\.jpg: cannot decode as an image/);
    expect(msgs).not.toMatch(/notes\.txt/);
    expect(r.skipped.map((f) => path.basename(f))).toEqual(['notes.txt']);
    expect(msgs).toMatch(/missing\.png: no such file/);
    expect(msgs).toMatch(/truncated\.mp4/);
    const img = readJson<ImageFacesJson>(path.join(out, 'dark.faces.json'));
    expect(img).toMatchObject({ kind: 'image', width: 96, height: 64, faces: [] });
    const vid = readJson<VideoFacesJson>(path.join(out, 'clip.faces.json'));
    expect(vid.frames.map((f) => f.ms)).toEqual([0, 250, 500, 750]);
    expect((await probeMedia(path.join(out, 'clip.faces.mp4'))).videoCodec).toBe('h264');
    expect(fs.existsSync(path.join(out, 'truncated.faces.json'))).toBe(false);
    expect(leftovers(out)).toEqual([]);
  }, 60_000);

  it('refuses to write into the input folder, --on without --enhance, and a missing model', async () => {
    await expectPieError(runDetect({ inputs: [inDir], output: inDir }, quiet), 'output', /refusing to overwrite the input \S+(broken\.jpg|dark\.png)/);
    await expectPieError(runDetect({ inputs: [inDir], output: path.join(root, 'x'), on: 'fused' }, quiet), 'usage', /--on fused needs --enhance/);
    await expectPieError(runDetect({ inputs: [path.join(inDir, 'dark.png')], output: path.join(root, 'y'), enhance: { modelPath: '/nonexistent/model.onnx', downscale: 4 } }, quiet), 'model', /\/nonexistent\/model\.onnx/);
  });
});

describe('detect flags', () => {
  const parse = { scale: parseScale, provider: parseProvider, positiveInt: parsePositiveInt };
  it('defaults: back model, tiled, 0.5, frontal faces, adaptive smoothing, hqdn3d in the video decoder, 5 fps, annotated, no enhancement', () => {
    expect(detectOptionsFromFlags(['a.jpg'], { output: 'o' }, parse)).toEqual({
      inputs: ['a.jpg'], output: 'o', model: 'back', tiling: true, threshold: 0.5, pose: 'frontal', denoise: 'auto', videoDenoise: TEMPORAL_DENOISE_DEFAULT,
      fps: 5, annotate: true, provider: 'cpu', quiet: false,
    });
    const o = detectOptionsFromFlags(['a.jpg'], { output: 'o', enhance: true, scale: '1/8', model: 'm.onnx', videoDenoise: 'none', tiling: false, on: 'enhanced' }, parse);
    expect(o).toMatchObject({ enhance: { downscale: 8, strength: 1, modelPath: 'm.onnx' }, videoDenoise: null, tiling: false, on: 'enhanced' });
    expect(detectOptionsFromFlags(['a.jpg'], { output: 'o', detector: 'full-range', upscale: '2' }, parse)).toMatchObject({ model: 'full-range', tiling: true, upscale: 2 });
    expect(() => detectOptionsFromFlags(['a.jpg'], { output: 'o', upscale: '2', tiling: false }, parse)).toThrow(/--upscale needs tiles/);
    expect(detectOptionsFromFlags(['a.mp4'], { output: 'o', staticAfter: '30' }, parse)).toMatchObject({ staticAfter: 30 });
    expect(detectOptionsFromFlags(['a.mp4'], { output: 'o', staticAfter: '0' }, parse)).toMatchObject({ staticAfter: 0 });
    expect(detectOptionsFromFlags(['a.mp4'], { output: 'o', confirm: 'off' }, parse)).toMatchObject({ confirm: null });
    expect(detectOptionsFromFlags(['a.mp4'], { output: 'o', confirm: 'live' }, parse)).toMatchObject({ confirm: { frames: 3, hits: 2, fixtureAfter: 50 } });
    expect(detectOptionsFromFlags(['a.mp4'], { output: 'o', confirm: '3/5', fixtureAfter: '0' }, parse)).toMatchObject({ confirm: { frames: 5, hits: 3, fixtureAfter: 0 } });
    expect(() => detectOptionsFromFlags(['a.mp4'], { output: 'o', confirm: '4/3' }, parse)).toThrow(/--confirm 4\/3 is not live, off or H\/F/);
    expect(() => detectOptionsFromFlags(['a.mp4'], { output: 'o', confirm: 'off', fixtureAfter: '20' }, parse)).toThrow(/--fixture-after needs/);
    expect(() => detectOptionsFromFlags(['a.mp4'], { output: 'o', fixtureAfter: '-1' }, parse)).toThrow(/--fixture-after -1/);
    expect(detectOptionsFromFlags(['a.jpg'], { output: 'o', pose: 'any' }, parse)).toMatchObject({ pose: 'any' });
    expect(detectOptionsFromFlags(['a.mp4'], { output: 'o', minFace: '12' }, parse)).toMatchObject({ minFace: 12 });
    expect(detectOptionsFromFlags(['a.mp4'], { output: 'o', minFace: '0' }, parse)).not.toHaveProperty('minFace');
  });

  it('bad values are usage errors that name the flag', () => {
    const bad = (f: Record<string, string>, re: RegExp): void => {
      const e = (() => { try { detectOptionsFromFlags(['a.jpg'], { output: 'o', ...f }, parse); return undefined; } catch (err) { return err; } })();
      expect(isPieError(e, 'usage')).toBe(true);
      expect((e as Error).message).toMatch(re);
    };
    bad({ detector: 'side' }, /--detector side is not one of back, front, full-range/);
    bad({ upscale: '3' }, /--upscale 3 is not 1 or 2/);
    bad({ staticAfter: 'soon' }, /--static-after soon must be a number above 0 and at most 3600/);
    bad({ threshold: '1.5' }, /--threshold 1.5/);
    bad({ fps: '0' }, /--fps 0/);
    bad({ on: 'both' }, /--on both/);
    bad({ pose: 'profile' }, /--pose profile is not one of frontal, any/);
    bad({ denoise: 'hqdn3d' }, /--denoise hqdn3d is not auto or none/);
    bad({ videoDenoise: 'bm3d' }, /--video-denoise bm3d/);
    bad({ minFace: '7.5' }, /--min-face 7.5 is not a whole number of pixels/);
    bad({ minFace: '-1' }, /--min-face -1/);
  });
});

const PHOTO = 'data/faces/face-api-js/images/faces.jpg';
const skip = skipReason(PHOTO);

describe.skipIf(skip !== undefined)('pie-stream detect on a real photo (../shared faces.jpg: six faces)', () => {
  const inDir = path.join(root, 'real');
  beforeAll(async () => {
    fs.mkdirSync(inDir, { recursive: true });
    fs.copyFileSync(sharedPath(PHOTO), path.join(inDir, 'faces.jpg'));
    // A 1 s still clip of the photo: every sampled frame holds the same six faces.
    await runTool(['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', '-loop', '1', '-framerate', '10', '-i', sharedPath(PHOTO), '-t', '1',
      '-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '12', '-pix_fmt', 'yuv420p', '-vf', 'pad=ceil(iw/2)*2:ceil(ih/2)*2', path.join(inDir, 'still.mp4')]);
  }, 60_000);

  it('finds the six faces, writes them as JSON and draws them on a copy of the photo', async () => {
    const out = path.join(root, 'out-real');
    const r = await runDetect({ inputs: [path.join(inDir, 'faces.jpg')], output: out, quiet: true }, quiet);
    expect(r.failed).toEqual([]);
    const j = readJson<ImageFacesJson>(path.join(out, 'faces.faces.json'));
    expect(j.faces).toHaveLength(6);
    for (const f of j.faces) {
      expect(f.score).toBeGreaterThan(0.8);
      expect(f.keypoints).toHaveLength(6);
    }
    const src = await readImage(path.join(inDir, 'faces.jpg')), drawn = await readImage(path.join(out, 'faces.jpg'));
    expect([drawn.width, drawn.height]).toEqual([src.width, src.height]);
    // The middle of each box's top edge is drawn green (a 1 px line through JPEG: look ±1 px).
    const greenNear = (x: number, y: number): boolean => [-1, 0, 1].some((dy) => [-1, 0, 1].some((dx) => {
      const i = ((Math.round(y) + dy) * src.width + Math.round(x) + dx) * 3;
      return drawn.data[i + 1]! > 180 && drawn.data[i]! < 100 && drawn.data[i + 2]! < 100;
    }));
    for (const f of j.faces) expect(greenNear(f.box.x + f.box.width / 2, f.box.y), JSON.stringify(f.box)).toBe(true);
    expect(greenNear(5, 5)).toBe(false);

    // --min-face: the narrower faces go, the others are the same boxes.
    const widths = j.faces.map((f) => f.box.width).sort((a, b) => a - b);
    const minFace = Math.floor(widths[2]!) + 1;
    const outMin = path.join(root, 'out-real-min');
    await runDetect({ inputs: [path.join(inDir, 'faces.jpg')], output: outMin, quiet: true, annotate: false, minFace }, quiet);
    const kept = readJson<ImageFacesJson>(path.join(outMin, 'faces.faces.json')).faces;
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThan(6);
    expect(kept.map((f) => f.box)).toEqual(j.faces.filter((f) => f.box.width >= minFace).map((f) => f.box));
  }, 60_000);

  it('after enhancement (fused with the raw frame) and on a video, every sampled frame has the six faces', async () => {
    const out = path.join(root, 'out-real-enh');
    // The rules against false faces off: a picture that never changes is all still background to them (tested below).
    const r = await runDetect({ inputs: [inDir], output: out, enhance: { downscale: 4 }, fps: 2, staticAfter: 0, confirm: null, quiet: true }, quiet);
    expect(r.failed).toEqual([]);
    expect(readJson<ImageFacesJson>(path.join(out, 'faces.faces.json')).faces).toHaveLength(6);
    const v = readJson<VideoFacesJson>(path.join(out, 'still.faces.json'));
    expect(v.frames).toHaveLength(2);
    for (const f of v.frames) expect(f.faces).toHaveLength(6);
    const info = await probeMedia(path.join(out, 'still.faces.mp4'));
    expect([info.width, info.height]).toEqual([v.width, v.height + (v.height % 2)]);
  }, 120_000);

  it('the live rules on a video by default: faces on a view that never changed are held as still from the first frame, the first frame after the view moves as unconfirmed, reported from the next; --confirm off --static-after 0 reports every detection; images never gated', async () => {
    // 2 s of the photo with fresh noise every frame, as a fixed camera watching it, then 2 s of it shifted 60 px right (the view moves).
    const clip = path.join(root, 'still-noisy.mp4');
    const part = (shift: number): string => `pad=ceil(iw/2)*2+${shift}:ceil(ih/2)*2:${shift}:0,crop=iw-${shift}:ih:0:0,fps=10,noise=alls=8:allf=t,format=yuv420p,setsar=1`;
    await runTool(['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', '-loop', '1', '-t', '2', '-i', sharedPath(PHOTO), '-loop', '1', '-t', '2', '-i', sharedPath(PHOTO),
      '-filter_complex', `[0]${part(0)}[a];[1]${part(60)}[b];[a][b]concat=n=2:v=1[v]`, '-map', '[v]', '-c:v', 'libx264', '-preset', 'ultrafast', clip]);
    const out = path.join(root, 'out-static');
    const r = await runDetect({ inputs: [clip, path.join(inDir, 'faces.jpg')], output: out, tiling: false, fps: 5, staticAfter: 2, annotate: false, quiet: true }, quiet);
    expect(r.failed).toEqual([]);
    const v = readJson<VideoFacesJson>(path.join(out, 'still-noisy.faces.json'));
    const at = (a: number, b: number): VideoFacesJson['frames'] => v.frames.filter((f) => f.ms >= a && f.ms < b);
    // A new camera's view starts still: the first 2 s, every face found is listed as still; after
    // the shift (2 s), reported (a frame's worth after it: the first shifted frame may be a cut).
    expect(at(0, 1800).every((f) => f.faces.length === 0 && f.held!.filter((h) => h.why === 'still').length >= 5), JSON.stringify(at(0, 1800))).toBe(true);
    expect(at(2400, 3800).every((f) => f.faces.length >= 5), JSON.stringify(at(2400, 3800))).toBe(true);
    // Seen once near there is not enough (2 of 3): the view's first moved frame holds its faces back.
    const firstMoved = v.frames.find((f) => f.ms >= 2000 && f.held!.every((h) => h.why !== 'still'))!;
    expect(firstMoved.faces).toHaveLength(0);
    expect(firstMoved.held!.filter((h) => h.why === 'unconfirmed').length).toBeGreaterThanOrEqual(5);
    expect(v.frames[firstMoved.index + 1]!.faces.length).toBeGreaterThanOrEqual(5);
    expect(readJson<ImageFacesJson>(path.join(out, 'faces.faces.json')).faces.length).toBeGreaterThanOrEqual(5);
    // Every rule off: every detection reported from the first frame, nothing held.
    const all = path.join(root, 'out-all');
    expect((await runDetect({ inputs: [clip], output: all, tiling: false, fps: 5, staticAfter: 0, confirm: null, annotate: false, quiet: true }, quiet)).failed).toEqual([]);
    const w = readJson<VideoFacesJson>(path.join(all, 'still-noisy.faces.json'));
    expect(w.frames.every((f) => f.faces.length >= 5 && f.held === undefined), JSON.stringify(w.frames.slice(0, 3))).toBe(true);
  }, 120_000);
});

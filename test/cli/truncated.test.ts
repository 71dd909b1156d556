// A video cut short whose index (moov, written first by +faststart) still announces every frame:
// ffmpeg decodes what is there and exits 0. enhance and detect must report it as a failed file.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDetect } from '../../src/cli/detect.js';
import { runEnhance } from '../../src/cli/enhance.js';
import { runTool } from '../../src/ingest/ffmpeg-process.js';
import { probeMedia } from '../../src/ingest/probe.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pie-trunc-'));
const file = path.join(root, 'cut.mp4');
const quiet = (): void => {};
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

beforeAll(async () => {
  const whole = path.join(root, 'whole.mp4');
  await runTool(['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=96x64:rate=25:duration=10',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-movflags', '+faststart', whole]);
  const bytes = fs.readFileSync(whole);
  fs.writeFileSync(file, bytes.subarray(0, Math.floor(bytes.length * 0.45)));
  expect((await probeMedia(file)).frames).toBe(250); // the index still says 250
}, 60_000);

describe('a truncated video', () => {
  it('fails enhance, naming the frames it had, and leaves no output', async () => {
    const out = path.join(root, 'enh');
    const r = await runEnhance({ inputs: [file], output: out, downscale: 4, provider: 'cpu', batch: 4, quiet: true }, quiet);
    expect(r.done).toEqual([]);
    expect(r.failed).toHaveLength(1);
    expect(r.failed[0]!.message).toMatch(/cut\.mp4: only \d+ of 250 frames could be decoded: the file is truncated or damaged/);
    expect(fs.existsSync(out) ? fs.readdirSync(out) : []).toEqual([]);
  }, 60_000);

  it('fails detect the same way (at its sampling rate)', async () => {
    const out = path.join(root, 'det');
    const r = await runDetect({ inputs: [file], output: out, quiet: true, fps: 5 }, quiet);
    expect(r.done).toEqual([]);
    expect(r.failed[0]!.message).toMatch(/cut\.mp4: only \d+ of 50 frames could be decoded: the file is truncated or damaged/);
    expect(fs.readdirSync(out)).toEqual([]);
  }, 60_000);
});

// IR mode in the live pipeline: a camera whose frames are monochrome is detected after a few
// frames, reported as IR in /api/cameras and the exposure it uses, and enhanced luminance-only
// (exact grey). That IR processing greys frames that are faintly coloured is tone.test.ts's.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PieApp, type FrameSink, type LiveSink, type SinkFactory } from '../../src/app.js';
import { parseConfig } from '../../src/config/load.js';
import type { Frame } from '../../src/ingest/frame.js';
import { retainFrame } from '../../src/ingest/frame-store.js';
import { runTool } from '../../src/ingest/ffmpeg-process.js';
import { camerasResponseSchema } from '../../src/output/api.js';

class Recorder implements LiveSink {
  readonly frames: Frame[] = [];
  write(f: Frame): void { if (this.frames.length < 200) { retainFrame(f.data); this.frames.push(f); } } // held, as a sink that keeps frames must
  attach(): void {}
  async close(): Promise<void> {}
}

const isGrey = (d: Uint8Array): boolean => {
  for (let i = 0; i < d.length; i += 3) if (d[i] !== d[i + 1] || d[i] !== d[i + 2]) return false;
  return true;
};

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pie-ir-'));
let app: PieApp | undefined;
afterAll(async () => { await app?.close(); fs.rmSync(dir, { recursive: true, force: true }); });

describe('IR mode, live', () => {
  it('detects a monochrome camera, says so, and outputs exact grey', async () => {
    const clip = path.join(dir, 'ir.mp4');
    // A dark grey scene (the faint chroma noise added is what x264 quantises away, as an IR camera's encoder does).
    await runTool(['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=s=160x96:r=10:d=6',
      '-vf', 'hue=s=0,lutyuv=y=val*0.35,noise=c1s=2:c1f=t:c2s=2:c2f=t,format=yuv420p', '-c:v', 'libx264', '-preset', 'ultrafast', clip]);
    const rec = new Map<string, Recorder>();
    const sinks: SinkFactory = {
      hls: async (c, v) => { const r = new Recorder(); rec.set(v, r); return r as FrameSink; },
      live: async (c, v) => { const r = new Recorder(); rec.set(`ws-${v}`, r); return r; },
    };
    app = await PieApp.start(parseConfig(`
cameras:
  - name: yard
    input: ${clip}
    width: 160
    height: 96
    fps: 10
    outputs: { hls: [raw, enhanced], websocket: [] }
enhance: { scale: 1/4, batch: { maxSize: 1, maxWaitMs: 0 } }
server: { host: 127.0.0.1, port: 0 }
`), { sinks });
    const mode = async (): Promise<string> => camerasResponseSchema.parse(await (await fetch(`${app!.url}/api/cameras`)).json()).cameras[0]!.mode;
    expect(await mode()).toBe('colour');
    const t0 = Date.now();
    while ((await mode()) !== 'ir') {
      if (Date.now() - t0 > 30_000) throw new Error('never switched to IR');
      await new Promise((r) => setTimeout(r, 100));
    }
    const switchedAt = rec.get('enhanced')!.frames.length;
    await new Promise((r) => setTimeout(r, 1500));
    const after = rec.get('enhanced')!.frames.slice(switchedAt + 2);
    expect(after.length).toBeGreaterThan(3);
    expect(after.every((f) => isGrey(f.data))).toBe(true);
    // Lifted: a dark camera (mean luma ≈ 0.1) gets an exposure target well above its own.
    const raw = rec.get('raw')!.frames.find((f) => f.seq === after[0]!.seq)!;
    const mean = (d: Uint8Array): number => d.reduce((a, b) => a + b, 0) / d.length / 255;
    expect(mean(after[0]!.data)).toBeGreaterThan(mean(raw.data) + 0.15);
    const cams = camerasResponseSchema.parse(await (await fetch(`${app.url}/api/cameras`)).json());
    expect(cams.cameras[0]!.exposure).toBeGreaterThan(0.2);
  });
});

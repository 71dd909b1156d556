// The wiring of the live pipeline with real parts (ffmpeg camera, ONNX Runtime, HTTP) and
// recording outputs; the real encoders are tested in test/output.
import { afterAll, describe, expect, it } from 'vitest';
import { PieApp, type FrameSink, type LiveSink, type SinkFactory } from '../src/app.js';
import { parseConfig } from '../src/config/load.js';
import type { Frame } from '../src/ingest/frame.js';
import { meanOf } from './helpers/media.js';

class Recorder implements LiveSink {
  readonly frames: Frame[] = [];
  closed = 0;
  write(f: Frame): void { if (this.frames.length < 50) this.frames.push(f); }
  attach(): void {}
  async close(): Promise<void> { this.closed++; }
}

const sinks = new Map<string, Recorder>();
const factory: SinkFactory = {
  hls: async (c, v) => { const r = new Recorder(); sinks.set(`hls/${c.name}/${v}`, r); return r as FrameSink; },
  live: async (c, v) => { const r = new Recorder(); sinks.set(`ws/${c.name}/${v}`, r); return r; },
};

const config = parseConfig(`
cameras:
  - name: night
    input: "synthetic:exposure=0.08,noise=4"
    width: 160
    height: 96
    fps: 10
    outputs: { hls: [raw, enhanced], websocket: [enhanced] }
enhance: { scale: 1/4, batch: { maxSize: 1, maxWaitMs: 0 } }
server: { host: 127.0.0.1, port: 0 }
`);

let app: PieApp | undefined;
afterAll(async () => { await app?.close(); });

const until = async (cond: () => boolean, ms: number): Promise<void> => {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
};

describe('the live pipeline', () => {
  it('streams a camera raw and enhanced to its outputs, and reports it over HTTP', async () => {
    app = await PieApp.start(config, { sinks: factory });
    const raw = () => sinks.get('hls/night/raw')!.frames, enh = () => sinks.get('hls/night/enhanced')!.frames;
    await until(() => raw().length >= 8 && enh().length >= 8, 20_000);
    expect(sinks.get('ws/night/enhanced')!.frames.length).toBeGreaterThan(0);
    // Same frame, raw and enhanced: the enhanced one is brighter.
    const e = enh()[3]!;
    const r = raw().find((f) => f.seq === e.seq)!;
    expect(r).toBeDefined();
    expect([e.width, e.height]).toEqual([160, 96]);
    expect(meanOf(e.data)).toBeGreaterThan(2 * meanOf(r.data));
    const health = await (await fetch(`${app.url}/health`)).json();
    expect(health).toEqual({ status: 'ok', cameras: [{ name: 'night', state: 'online' }] });
    const status = await (await fetch(`${app.url}/api/cameras`)).json();
    expect(status.cameras[0].framesProcessed).toBeGreaterThan(0);
    expect(status.enhancer).toMatch(/execution provider: cpu/);
    expect(app.urls().map((u) => u.kind)).toEqual(['HLS raw', 'HLS enhanced', 'WebSocket enhanced (JSMpeg)']);
    await app.close();
    await app.close();
    expect([...sinks.values()].every((s) => s.closed === 1)).toBe(true);
  }, 40_000);

  it('runs the region cache in the live path: curves estimated, smoothed per camera, applied with the exposure target', async () => {
    sinks.clear();
    const cached = parseConfig(`
cameras:
  - name: night
    input: "synthetic:exposure=0.08,noise=4"
    width: 160
    height: 96
    fps: 10
    outputs: { hls: [raw, enhanced], websocket: [] }
enhance: { scale: 1/4, exposure: 0.4, regionCache: { enabled: true, alpha: 0.3 }, batch: { maxSize: 1, maxWaitMs: 0 } }
server: { host: 127.0.0.1, port: 0 }
`);
    const lines: string[] = [];
    app = await PieApp.start(cached, { sinks: factory, log: (l) => lines.push(l) });
    expect(lines.join('\n')).toMatch(/region cache on: alpha 0\.3/);
    const enh = () => sinks.get('hls/night/enhanced')!.frames;
    await until(() => enh().length >= 6, 20_000);
    for (const f of enh().slice(2)) expect(Math.abs(meanOf(f.data) - 0.4)).toBeLessThan(0.03);
    await app.close();
  }, 40_000);
});

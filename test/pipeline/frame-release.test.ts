// Camera frames given back to the frame store by their holders, not the collector (issue 13): the
// live app's cameras release each frame once delivered, and every stage that keeps one holds it
// (retainFrame), and so do the workers' results after their fan-out. Real ffmpeg cameras, real workers. A sink that keeps frames and holds them sees
// their pixels unchanged however many frames follow; one that keeps them without holding sees them
// overwritten, which is how the camera reuses slots without waiting for a collection.
import { afterEach, describe, expect, it } from 'vitest';
import { PieApp, type FrameSink, type LiveSink, type SinkFactory } from '../../src/app.js';
import { parseConfig } from '../../src/config/load.js';
import type { Frame } from '../../src/ingest/frame.js';
import { frameStores, releaseFrame, retainFrame } from '../../src/ingest/frame-store.js';

const H = 72; // widths differ per case: each case's frames have a store of their own

/** Keeps the first `n` frames with a copy taken at write(); `hold`: as the sink contract asks (retainFrame), or not. */
class Keeper implements LiveSink {
  readonly kept: Array<{ frame: Frame; copy: Uint8Array }> = [];
  constructor(private readonly n: number, private readonly hold: boolean) {}
  write(f: Frame): void {
    if (this.kept.length >= this.n) return;
    if (this.hold) retainFrame(f.data);
    this.kept.push({ frame: f, copy: f.data.slice() });
  }
  /** Kept frames whose pixels are no longer what was written. */
  changed(): number { return this.kept.filter((k) => !k.frame.data.every((v, i) => v === k.copy[i])).length; }
  releaseAll(): void { if (this.hold) for (const k of this.kept) releaseFrame(k.frame.data); }
  attach(): void {}
  async close(): Promise<void> {}
}

let app: PieApp | undefined;
afterEach(async () => { await app?.close(); app = undefined; });

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('camera frames back to the store without the collector', () => {
  it.each([
    ['enhancement only, no denoiser', 'enhance: { scale: 1/4, denoise: off, batch: { maxSize: 2, maxWaitMs: 20 } }', 104],
    // The detector holds each frame's raw twin (the camera's pixels, or the denoised frame) until it is done with it.
    ['with the temporal denoiser and face detection', 'enhance: { scale: 1/4, denoise: temporal, batch: { maxSize: 2, maxWaitMs: 20 } }\ndetect: { enabled: true, fps: 5 }', 112],
    // The workers read the cameras' own slots (ownCopy holds, does not copy): no path may write into them.
    ['with the region cache', 'enhance: { scale: 1/4, denoise: off, regionCache: { enabled: true }, batch: { maxSize: 2, maxWaitMs: 20 } }', 120],
  ])('%s: a holder keeps its pixels; slots return at once and the store never falls back', async (_what, tail, W) => {
    const sinks = new Map<string, Keeper>();
    const factory: SinkFactory = {
      // Camera a's raw output holds what it keeps; camera b's keeps frames without holding them.
      hls: async (c, v) => { const k = new Keeper(30, c.name === 'a'); sinks.set(`${c.name}/${v}`, k); return k as FrameSink; },
      live: async (c, v) => { const k = new Keeper(0, true); sinks.set(`ws/${c.name}/${v}`, k); return k; },
    };
    app = await PieApp.start(parseConfig(`
cameras:
  - name: a
    input: "synthetic:exposure=0.1,noise=4"
    width: ${W}
    height: ${H}
    fps: 20
    outputs: { hls: [raw, enhanced], websocket: [] }
  - name: b
    input: "synthetic:exposure=0.2,noise=4"
    width: ${W}
    height: ${H}
    fps: 20
    outputs: { hls: [raw, enhanced], websocket: [] }
${tail}
server: { host: 127.0.0.1, port: 0 }
`), { sinks: factory });
    const kept = (k: string): number => sinks.get(k)!.kept.length;
    const t0 = Date.now();
    while (['a/raw', 'b/raw', 'a/enhanced', 'b/enhanced'].some((k) => kept(k) < 30)) {
      if (Date.now() - t0 > 30_000) throw new Error('cameras did not deliver 30 frames');
      await sleep(100);
    }
    // A snapshot while frames keep coming: it holds the frame it encodes.
    for (const variant of ['raw', 'enhanced']) {
      const snap = await fetch(`${app.url}/api/cameras/a/snapshot.jpg?variant=${variant}`);
      expect(snap.status).toBe(200);
      expect((await snap.arrayBuffer()).byteLength).toBeGreaterThan(100);
    }
    await sleep(1500); // 30 more frames a camera: every slot has been through the store again
    // Camera frames and enhanced frames (the workers' results) alike.
    expect(sinks.get('a/raw')!.changed()).toBe(0);
    expect(sinks.get('a/enhanced')!.changed()).toBe(0);
    expect(sinks.get('b/raw')!.changed()).toBeGreaterThan(0);
    expect(sinks.get('b/enhanced')!.changed()).toBeGreaterThan(0);
    const stats = frameStores().get(W * H * 3)!.stats();
    expect(stats.released).toBeGreaterThan(stats.taken / 2);
    expect(stats.fallbacks).toBe(0);
    // Fewer slots than frames: reuse, not growth (30 held by camera a's sink, a few in flight).
    expect(stats.slots).toBeLessThan(stats.taken / 2);
    // With detection on, the detector did run on held frames (and gave them back: the figures above).
    if (tail.includes('detect:')) expect(app.stats().detector?.runs).toBeGreaterThan(0);
    for (const k of sinks.values()) k.releaseAll();
  }, 60_000);
});

// The live pipeline, wired in the order frames flow:
//   cameras (one supervised ffmpeg each) ─▶ raw outputs
//            └─▶ cross-camera batches ─▶ enhancement (newest batch wins while busy) ─▶ enhanced outputs
// plus the HTTP server in front of the outputs. Every stage is a tested unit; this file only composes.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { merge, Subscription, from, map, type Observable } from 'rxjs';
import type { CameraConfig, PieConfig, Variant } from './config/schema.js';
import { Enhancer } from './enhance/enhancer.js';
import { CameraSource, type CameraStatus } from './ingest/camera-source.js';
import type { Frame } from './ingest/frame.js';
import { redact } from './ingest/redact.js';
import { PieHttpServer } from './output/http-server.js';
import { batchFrames, type Batch } from './pipeline/batchFrames.js';
import { DropCounter, type DropSink } from './pipeline/dropCounter.js';
import { latestWins } from './pipeline/latestWins.js';
import type { WebSocket } from 'ws';

/** Where frames of one camera and variant go (an HLS writer, a live stream). write() never blocks. */
export interface FrameSink {
  write(frame: Frame): void;
  /** Settles when the output has flushed and stopped; its value is not used. */
  close(): Promise<unknown>;
}
export interface LiveSink extends FrameSink {
  attach(ws: WebSocket): void;
}

/** Makes the outputs; injected so the app can be tested with or without encoders. */
export interface SinkFactory {
  hls(camera: CameraConfig, variant: Variant, dir: string, drops: DropSink): Promise<FrameSink>;
  live(camera: CameraConfig, variant: Variant, drops: DropSink): Promise<LiveSink>;
}

export interface AppOptions {
  readonly sinks: SinkFactory;
  /** HLS folders go here (default: a fresh temp folder, removed on close). */
  readonly dataDir?: string;
  readonly log?: (line: string) => void;
}

interface CameraRuntime {
  readonly config: CameraConfig;
  readonly source: CameraSource;
  readonly hls: Map<Variant, FrameSink>;
  readonly live: Map<Variant, LiveSink>;
  processed: number;
  lastLatencyMs: number;
}

export interface AppStatus {
  readonly cameras: ReadonlyArray<CameraStatus & { readonly framesProcessed: number; readonly latencyMs: number; readonly dropped: Readonly<Record<string, number>> }>;
  readonly enhancer: string;
}

export class PieApp {
  private readonly subs = new Subscription();
  private closed = false;

  private constructor(
    readonly server: PieHttpServer,
    private readonly cameras: ReadonlyMap<string, CameraRuntime>,
    private readonly enhancers: ReadonlyMap<string, Enhancer>,
    readonly drops: DropCounter,
    private readonly dataDir: { path: string; owned: boolean },
  ) {}

  get url(): string { return this.server.url; }

  /** The URLs to open, per camera. */
  urls(): Array<{ camera: string; kind: string; url: string }> {
    const out: Array<{ camera: string; kind: string; url: string }> = [];
    const ws = this.url.replace(/^http/, 'ws');
    for (const [name, c] of this.cameras) {
      for (const v of c.hls.keys()) out.push({ camera: name, kind: `HLS ${v}`, url: `${this.url}/hls/${name}/${v}/index.m3u8` });
      for (const v of c.live.keys()) out.push({ camera: name, kind: `WebSocket ${v} (JSMpeg)`, url: `${ws}/ws/${name}/${v}` });
    }
    return out;
  }

  status(): AppStatus {
    const dropped = this.drops.snapshot();
    return {
      cameras: [...this.cameras.values()].map((c) => ({
        ...c.source.status(),
        framesProcessed: c.processed,
        latencyMs: Math.round(c.lastLatencyMs),
        dropped: dropped[c.config.name] ?? {},
      })),
      enhancer: [...this.enhancers.values()].map((e) => e.describe()).join(' | '),
    };
  }

  static async start(config: PieConfig, o: AppOptions): Promise<PieApp> {
    const log = o.log ?? (() => {});
    const owned = !o.dataDir;
    const dataDir = o.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'pie-stream-'));
    const modelOf = (c: CameraConfig): string => c.model ?? config.enhance.model ?? '';

    // One enhancer per distinct model, shared by the cameras that use it.
    const enhancers = new Map<string, Enhancer>();
    for (const c of config.cameras) {
      const key = modelOf(c);
      if (enhancers.has(key)) continue;
      const e = await Enhancer.open({
        downscale: config.enhance.downscale, provider: config.enhance.provider, strength: config.enhance.strength,
        ...(key ? { modelPath: key } : {}),
      });
      log(e.describe());
      enhancers.set(key, e);
    }

    const drops = new DropCounter();
    const cameras = new Map<string, CameraRuntime>();
    const appRef: { app?: PieApp } = {};
    let server: PieHttpServer;
    const started: FrameSink[] = [];
    const track = <S extends FrameSink>(sink: S): S => { started.push(sink); return sink; };
    try {
      for (const c of config.cameras) {
        const hls = new Map<Variant, FrameSink>();
        const live = new Map<Variant, LiveSink>();
        for (const v of c.outputs.hls) hls.set(v, track(await o.sinks.hls(c, v, path.join(dataDir, c.name, v), drops)));
        for (const v of c.outputs.websocket) live.set(v, track(await o.sinks.live(c, v, drops)));
        const source = new CameraSource({ name: c.name, input: c.input, width: c.width, height: c.height, fps: c.fps, log: (l) => log(`[${c.name}] ${l}`) });
        cameras.set(c.name, { config: c, source, hls, live, processed: 0, lastLatencyMs: 0 });
      }

      server = await PieHttpServer.start({
        host: config.server.host, port: config.server.port, ...(config.server.token ? { token: config.server.token } : {}),
        hlsRoot: dataDir,
        cameras: () => [...cameras.keys()],
        health: () => ({ status: 'ok', cameras: [...cameras.values()].map((c) => ({ name: c.config.name, state: c.source.status().state })) }),
        status: () => appRef.app?.status() ?? { cameras: [] },
        hasStream: (camera, variant) => Boolean(cameras.get(camera)?.live.has(variant as Variant)),
        attach: (camera, variant, ws) => {
          const s = cameras.get(camera)?.live.get(variant as Variant);
          if (!s) return false;
          s.attach(ws);
          return true;
        },
      });
    } catch (e) {
      // Whatever started before the failure (encoders are ffmpeg processes) must not outlive it.
      await Promise.all(started.map((x) => x.close()));
      await Promise.all([...enhancers.values()].map((x) => x.close()));
      if (owned) fs.rmSync(dataDir, { recursive: true, force: true });
      throw e;
    }
    const app = new PieApp(server, cameras, enhancers, drops, { path: dataDir, owned });
    appRef.app = app;
    app.wire(config, modelOf);
    for (const c of cameras.values()) c.source.start();
    return app;
  }

  /** The RxJS part: raw fan-out, cross-camera batching, enhancement with newest-wins backpressure. */
  private wire(config: PieConfig, modelOf: (c: CameraConfig) => string): void {
    const sources = [...this.cameras.values()];
    for (const c of sources) {
      if (c.hls.has('raw') || c.live.has('raw')) {
        this.subs.add(c.source.frames$.subscribe((f) => {
          c.hls.get('raw')?.write(f);
          c.live.get('raw')?.write(f);
        }));
      }
    }
    const wantsEnhanced = sources.filter((c) => c.hls.has('enhanced') || c.live.has('enhanced'));
    if (wantsEnhanced.length === 0) return;
    const frames$: Observable<Frame> = merge(...wantsEnhanced.map((c) => c.source.frames$));
    const enhance = (batch: Batch<Frame>): Observable<Frame[]> => {
      const e = this.enhancers.get(modelOf(this.cameras.get(batch.frames[0]!.camera)!.config))!;
      return from(e.enhance(batch.frames)).pipe(map((out) => batch.frames.map((f, i) => ({ ...f, data: out.frames[i]!.data }))));
    };
    this.subs.add(frames$.pipe(
      batchFrames<Frame>({ maxSize: config.enhance.batch.maxSize, maxWaitMs: config.enhance.batch.maxWaitMs, groupBy: (f) => modelOf(this.cameras.get(f.camera)!.config) }),
      latestWins(enhance, { drops: this.drops, concurrency: 1, reason: 'busy' }),
    ).subscribe({
      next: (frames) => {
        const now = Date.now();
        for (const f of frames) {
          const c = this.cameras.get(f.camera)!;
          c.processed++;
          c.lastLatencyMs = now - f.ptsMs;
          c.hls.get('enhanced')?.write(f);
          c.live.get('enhanced')?.write(f);
        }
      },
      error: (e: unknown) => { console.error(redact(`pipeline stopped: ${e instanceof Error ? e.message : String(e)}`)); },
    }));
  }

  /** Stops cameras, outputs, server and sessions; safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.subs.unsubscribe();
    await Promise.all([...this.cameras.values()].map((c) => c.source.stop()));
    await Promise.all([...this.cameras.values()].flatMap((c) => [...c.hls.values(), ...c.live.values()].map((s) => s.close())));
    await this.server.close();
    await Promise.all([...this.enhancers.values()].map((e) => e.close()));
    if (this.dataDir.owned) fs.rmSync(this.dataDir.path, { recursive: true, force: true });
  }
}

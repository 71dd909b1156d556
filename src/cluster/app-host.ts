// The thin adapter between the lease loop and the live pipeline: each owned camera runs as its own
// PieApp on a loopback port (the app's camera set is fixed at start; one app per camera keeps the
// adapter independent of app.ts's internals while that file is being split). A camera whose model
// was published to the object store runs with that model; a model published (or removed) while the
// camera runs here is picked up by refresh(), which restarts that camera's app with it.
import path from 'node:path';
import type { ObjectStore } from '@nats-io/obj';
import { PieApp, type FaceEventSink, type SinkFactory } from '../app.js';
import type { CameraConfig, PieConfig } from '../config/schema.js';
import { messageOf } from '../errors.js';
import type { CameraInfo, CameraStats } from '../output/api.js';
import type { CameraHost, HostedCamera } from './host.js';
import type { LocalView } from './site-view.js';
import { fetchModel, publishedDigest } from './models.js';

interface Running {
  readonly app: PieApp;
  readonly config: CameraConfig;
  /** The published model's digest when the app started (undefined: none was published). */
  readonly digest: string | undefined;
  readonly model: string | undefined;
}

export class AppHost implements CameraHost {
  private readonly apps = new Map<string, Running>();
  /** Each camera's start, stop and restart run one after another: a restart never outlives a stop. */
  private readonly ops = new Map<string, Promise<void>>();
  private refreshing = false;
  constructor(private readonly o: { readonly config: PieConfig; readonly sinks: SinkFactory; readonly models?: ObjectStore; readonly faceEvents?: FaceEventSink; readonly dataDir: string; readonly log: (l: string) => void }) {}

  start(camera: CameraConfig): Promise<void> { return this.serial(camera.name, () => this.doStart(camera)); }
  stop(name: string): Promise<void> { return this.serial(name, () => this.doStop(name)); }

  private serial(name: string, f: () => Promise<void>): Promise<void> {
    const run = (this.ops.get(name) ?? Promise.resolve()).then(f);
    const tail = run.catch(() => {});
    this.ops.set(name, tail);
    void tail.then(() => { if (this.ops.get(name) === tail) this.ops.delete(name); });
    return run;
  }

  private async doStart(camera: CameraConfig): Promise<void> {
    await this.doStop(camera.name);
    let model: string | undefined, digest: string | undefined;
    const store = this.o.models;
    if (store) {
      try {
        // The digest first: a model published between the two reads is seen as new by the next refresh.
        digest = await publishedDigest(store, camera.name);
        model = digest ? await fetchModel(store, camera.name, path.join(this.o.dataDir, 'models')) : undefined;
      } catch (e) {
        this.o.log(`cluster: ${camera.name}: published model not loaded (${messageOf(e)}); using the configured one`);
        digest = model = undefined;
      }
    }
    const cam: CameraConfig = model ? { ...camera, model } : camera;
    const app = await PieApp.start({ ...this.o.config, cameras: [cam], server: { host: '127.0.0.1', port: 0 } }, { sinks: this.o.sinks, log: this.o.log, ...(this.o.faceEvents ? { faceEvents: this.o.faceEvents } : {}) });
    if (model) this.o.log(`cluster: ${camera.name}: runs its published model ${path.basename(model)}`);
    this.apps.set(camera.name, { app, config: camera, digest, model });
  }

  /**
   * Restarts each camera whose published model changed since it started. One pass at a time; a
   * camera whose store read fails keeps running as it is (the next pass tries again).
   */
  async refresh(): Promise<void> {
    const store = this.o.models;
    if (!store || this.refreshing) return;
    this.refreshing = true;
    try {
      for (const [name, r] of [...this.apps]) {
        const now = await publishedDigest(store, name).catch(() => r.digest);
        if (now === r.digest) continue;
        await this.serial(name, async () => {
          // Stopped or restarted meanwhile (a hand-off): not ours to restart.
          if (this.apps.get(name) !== r) return;
          this.o.log(`cluster: ${name}: ${now ? 'a new model was published' : 'its published model was removed'}; restarting it`);
          await this.doStart(r.config);
        }).catch((e: unknown) => this.o.log(`cluster: ${name}: restart failed (${messageOf(e)})`));
      }
    } finally {
      this.refreshing = false;
    }
  }

  private async doStop(name: string): Promise<void> {
    const r = this.apps.get(name);
    if (!r) return;
    this.apps.delete(name);
    await r.app.close();
  }

  /** The local app's URL of a camera this node runs. */
  urlOf(name: string): string | undefined { return this.apps.get(name)?.app.url; }

  status(): HostedCamera[] {
    return [...this.apps].map(([name, r]) => {
      const c = r.app.status().cameras[0];
      return { name, state: c?.state ?? 'starting', framesTotal: c?.framesTotal ?? 0, ...(r.model ? { model: path.basename(r.model) } : {}) };
    });
  }

  /** What this node's apps say of their cameras, in the app's own /api/cameras and /api/stats forms. */
  localView(): LocalView {
    const cameras: CameraInfo[] = [];
    const stats: Record<string, CameraStats> = {};
    for (const [name, r] of this.apps) {
      const c = r.app.status().cameras[0];
      const st = r.app.stats().cameras[name];
      if (c) cameras.push(c);
      if (st) stats[name] = st;
    }
    return { cameras, stats, enhancer: [...this.apps.values()][0]?.app.status().enhancer ?? '' };
  }

  async close(): Promise<void> {
    await Promise.all([...this.apps.keys()].map((n) => this.stop(n)));
  }
}

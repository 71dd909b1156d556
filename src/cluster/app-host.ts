// The thin adapter between the lease loop and the live pipeline: each owned camera runs as its own
// PieApp on a loopback port (the app's camera set is fixed at start; one app per camera keeps the
// adapter independent of app.ts's internals while that file is being split). A camera whose model
// was published to the object store runs with that model.
import path from 'node:path';
import type { ObjectStore } from '@nats-io/obj';
import { PieApp, type FaceEventSink, type SinkFactory } from '../app.js';
import type { CameraConfig, PieConfig } from '../config/schema.js';
import { messageOf } from '../errors.js';
import type { CameraHost, HostedCamera } from './host.js';
import { fetchModel } from './models.js';

export class AppHost implements CameraHost {
  private readonly apps = new Map<string, PieApp>();
  constructor(private readonly o: { readonly config: PieConfig; readonly sinks: SinkFactory; readonly models?: ObjectStore; readonly faceEvents?: FaceEventSink; readonly dataDir: string; readonly log: (l: string) => void }) {}

  async start(camera: CameraConfig): Promise<void> {
    await this.stop(camera.name);
    let model: string | undefined;
    if (this.o.models) {
      model = await fetchModel(this.o.models, camera.name, path.join(this.o.dataDir, 'models')).catch((e: unknown) => {
        this.o.log(`cluster: ${camera.name}: published model not loaded (${messageOf(e)}); using the configured one`);
        return undefined;
      });
    }
    const cam: CameraConfig = model ? { ...camera, model } : camera;
    const app = await PieApp.start({ ...this.o.config, cameras: [cam], server: { host: '127.0.0.1', port: 0 } }, { sinks: this.o.sinks, log: this.o.log, ...(this.o.faceEvents ? { faceEvents: this.o.faceEvents } : {}) });
    this.apps.set(camera.name, app);
  }

  async stop(name: string): Promise<void> {
    const app = this.apps.get(name);
    if (!app) return;
    this.apps.delete(name);
    await app.close();
  }

  /** The local app's URL of a camera this node runs. */
  urlOf(name: string): string | undefined { return this.apps.get(name)?.url; }

  status(): HostedCamera[] {
    return [...this.apps].map(([name, app]) => {
      const c = app.status().cameras[0];
      return { name, state: c?.state ?? 'starting', framesTotal: c?.framesTotal ?? 0 };
    });
  }

  async close(): Promise<void> {
    await Promise.all([...this.apps.keys()].map((n) => this.stop(n)));
  }
}

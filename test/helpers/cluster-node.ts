// A pie-stream cluster node as its own process, for tests and the bench: the real ClusterNode and
// real ffmpeg camera sources (ingest only: enhancement on 2 shared cores × 3 nodes would measure the
// CPU, not the cluster). It prints one JSON line per fact, with wall-clock times (all processes share
// one clock on one machine): {ev:'start'|'stop'|'frame'|'tick'|'log', camera?, t}. 'frame' is each
// camera's first frame after a start; 'tick' says a camera still delivers frames (at most once a second). Run: node --import tsx test/helpers/cluster-node.ts '<ClusterConfig JSON>'
import { CameraSource } from '../../src/ingest/camera-source.js';
import type { CameraConfig, ClusterConfig } from '../../src/config/schema.js';
import type { CameraHost, HostedCamera } from '../../src/cluster/host.js';
import { ClusterNode } from '../../src/cluster/node.js';

const emit = (o: Record<string, unknown>): void => { process.stdout.write(`${JSON.stringify({ ...o, t: Date.now() })}\n`); };

export class SourceHost implements CameraHost {
  private readonly sources = new Map<string, CameraSource>();
  constructor(private readonly onEvent: (o: Record<string, unknown>) => void = () => {}) {}

  async start(c: CameraConfig): Promise<void> {
    await this.stop(c.name);
    const s = new CameraSource({ name: c.name, input: c.input, width: c.width, height: c.height, fps: c.fps });
    this.sources.set(c.name, s);
    let first = true;
    s.frames$.subscribe((f) => {
      if (first) { first = false; this.onEvent({ ev: 'frame', camera: c.name }); }
      this.onEvent({ ev: 'tick', camera: c.name, seq: f.seq });
    });
    this.onEvent({ ev: 'start', camera: c.name });
    s.start();
  }

  async stop(name: string): Promise<void> {
    const s = this.sources.get(name);
    if (!s) return;
    this.sources.delete(name);
    await s.stop();
    this.onEvent({ ev: 'stop', camera: name });
  }

  status(): HostedCamera[] {
    return [...this.sources].map(([name, s]) => { const st = s.status(); return { name, state: st.state, framesTotal: st.framesTotal }; });
  }
}

if (process.argv[1]?.endsWith('cluster-node.ts')) {
  const config = JSON.parse(process.argv[2]!) as ClusterConfig;
  const lastTick = new Map<unknown, number>();
  const host = new SourceHost((o) => {
    if (o['ev'] === 'tick') {
      const now = Date.now();
      if (now - (lastTick.get(o['camera']) ?? 0) < 1000) return;
      lastTick.set(o['camera'], now);
    }
    emit(o);
  });
  const node = await ClusterNode.start({ config, host, log: (line) => emit({ ev: 'log', line }) });
  emit({ ev: 'ready' });
  process.on('SIGTERM', () => { void node.close().then(() => process.exit(0)); });
}

// A real RTSP server for camera tests: Debian's GStreamer RTSP server, run by rtsp_server.py
// with Debian's Python (/usr/bin/python3 has gi; a pyenv python on PATH may not). Serves a moving
// H.264 test pattern on 127.0.0.1 over TCP and UDP, optionally behind basic auth.
// Tests that need it skip with rtspServerMissing()'s reason when the packages are absent.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const PYTHON = process.env.PIE_TEST_PYTHON ?? '/usr/bin/python3';
const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'rtsp_server.py');
export const RTSP_SERVER_PACKAGES = 'python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly';

const PROBE = `
import gi
gi.require_version('Gst', '1.0'); gi.require_version('GstRtspServer', '1.0')
from gi.repository import Gst, GstRtspServer
Gst.init(None)
missing = [e for e in ('videotestsrc', 'x264enc', 'rtph264pay') if Gst.ElementFactory.find(e) is None]
print('missing GStreamer elements: ' + ' '.join(missing) if missing else 'ok')
`;

let missingCache: string | null | undefined;

/** Why the RTSP server cannot run here (logged once), or undefined when it can. */
export function rtspServerMissing(): string | undefined {
  if (missingCache === undefined) {
    const r = spawnSync(PYTHON, ['-c', PROBE], { encoding: 'utf8', timeout: 20_000 });
    const out = `${r.stdout ?? ''}`.trim();
    missingCache = r.status === 0 && out === 'ok'
      ? null
      : `skipped: no GStreamer RTSP server (${r.error ? r.error.message : out || lastLine(r.stderr ?? '')}); ` +
        `install: apt-get install ${RTSP_SERVER_PACKAGES}`;
    if (missingCache) console.warn(missingCache);
  }
  return missingCache ?? undefined;
}

const lastLine = (s: string): string => s.trim().split('\n').pop() ?? '';

/** A port nothing listens on right now (the kernel's pick). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export interface RtspServerOptions {
  /** Default: a free port. Pass the old one to bring a "camera" back where it was. */
  readonly port?: number;
  readonly path?: string;
  readonly width?: number;
  readonly height?: number;
  readonly fps?: number;
  /** Basic auth: both set → the stream needs these credentials. */
  readonly user?: string;
  readonly password?: string;
  /** videotestsrc pattern (default 'ball': white on black) and a brightness shift (−1..1). */
  readonly pattern?: string;
  readonly brightness?: number;
}

const live = new Set<ChildProcess>();
// Last resort if a test run dies without afterAll: never leave a server behind.
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

export class RtspServer {
  private constructor(private readonly child: ChildProcess, readonly port: number, readonly path: string,
    private readonly exited: Promise<void>) {}

  static async start(o: RtspServerOptions = {}): Promise<RtspServer> {
    const port = o.port ?? (await freePort());
    const p = o.path ?? '/cam';
    const args = [SCRIPT, '--port', String(port), '--path', p,
      '--width', String(o.width ?? 320), '--height', String(o.height ?? 240), '--fps', String(o.fps ?? 10)];
    if (o.user !== undefined) args.push('--user', o.user, '--password', o.password ?? '');
    if (o.pattern) args.push('--pattern', o.pattern);
    if (o.brightness !== undefined) args.push('--brightness', String(o.brightness));
    const child = spawn(PYTHON, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(child);
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (s: string) => { stderr = (stderr + s).slice(-4000); });
    child.stdout!.resume();
    const exited = new Promise<void>((resolve) => child.once('close', () => { live.delete(child); resolve(); }));
    const server = new RtspServer(child, port, p, exited);
    let dead = false;
    void exited.then(() => { dead = true; });
    const deadline = Date.now() + 15_000;
    while (!(await accepts(port))) {
      if (dead) throw new Error(`RTSP server exited before listening on ${port}: ${stderr.trim()}`);
      if (Date.now() > deadline) {
        await server.stop();
        throw new Error(`RTSP server did not listen on ${port} within 15 s: ${stderr.trim()}`);
      }
      await sleep(50);
    }
    return server;
  }

  get pid(): number | undefined { return this.child.pid; }

  url(credentials?: { user: string; password: string }): string {
    const auth = credentials ? `${encodeURIComponent(credentials.user)}:${encodeURIComponent(credentials.password)}@` : '';
    return `rtsp://${auth}127.0.0.1:${this.port}${this.path}`;
  }

  /** Freezes the server (SIGSTOP): connections stay open but nothing flows — a hung camera. */
  pause(): void { this.child.kill('SIGSTOP'); }
  resume(): void { this.child.kill('SIGCONT'); }

  /** Kills the server and waits for it to exit (SIGKILL after 3 s). Idempotent. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGCONT'); // a paused process would not act on SIGTERM
      this.child.kill('SIGTERM');
      const t = setTimeout(() => this.child.kill('SIGKILL'), 3000);
      await this.exited;
      clearTimeout(t);
    }
    await this.exited;
  }
}

/** For afterAll: kills every server still running. */
export async function stopAllRtspServers(): Promise<void> {
  await Promise.all([...live].map((c) => new Promise<void>((resolve) => {
    if (c.exitCode !== null || c.signalCode !== null) return resolve();
    c.once('close', () => resolve());
    c.kill('SIGCONT');
    c.kill('SIGKILL');
  })));
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => { s.destroy(); resolve(false); });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// Real NATS for tests: Debian's nats-server with JetStream, on free loopback ports, its store in a
// temp folder; one server or a 3-server cluster. Absent the binary, NATS is undefined and the suites
// that need it skip, saying why.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { freePort } from './mosquitto.js';

export const NATS = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/sbin', '/usr/local/sbin', '/usr/bin']
  .map((d) => path.join(d, 'nats-server')).find((p) => fs.existsSync(p));
export const NATS_SKIP = NATS ? undefined : 'skipped: nats-server not found (apt-get install nats-server; .ci/run installs it)';

export interface NatsServer {
  readonly port: number;
  readonly url: string;
  proc: ChildProcess;
  /** Starts it again on the same port and store (after kill). */
  restart(): Promise<void>;
  kill(): Promise<void>;
}

async function listening(port: number): Promise<boolean> {
  return new Promise<boolean>((r) => {
    const c = net.connect(port, '127.0.0.1', () => { c.destroy(); r(true); });
    c.on('error', () => r(false));
  });
}

async function launch(args: string[], port: number): Promise<ChildProcess> {
  if (!NATS) throw new Error(NATS_SKIP);
  const p = spawn(NATS, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  p.stderr!.on('data', (c: Buffer) => { err = (err + c.toString()).slice(-4000); });
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (p.exitCode !== null) throw new Error(`nats-server exited: ${err}`);
    if (await listening(port)) return p;
    if (Date.now() > deadline) { p.kill('SIGKILL'); throw new Error(`nats-server did not listen on ${port}: ${err}`); }
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function killProc(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const gone = new Promise((r) => p.once('exit', r));
  p.kill('SIGKILL');
  await gone;
}

function server(port: number, args: string[]): NatsServer {
  const s: NatsServer = {
    port, url: `nats://127.0.0.1:${port}`, proc: undefined as unknown as ChildProcess,
    restart: async () => { s.proc = await launch(args, port); },
    kill: () => killProc(s.proc),
  };
  return s;
}

/** One server with JetStream, its store under `dir`, on `port` (default: a free one). */
export async function startNats(dir: string, port?: number): Promise<NatsServer> {
  port ??= await freePort();
  const s = server(port, ['-js', '-sd', path.join(dir, `js-${port}`), '-a', '127.0.0.1', '-p', String(port)]);
  await s.restart();
  return s;
}

/** Three clustered servers with JetStream (routes on loopback); resolves once the cluster has a JetStream leader. */
export async function startNatsCluster(dir: string): Promise<NatsServer[]> {
  const ports = await Promise.all([0, 1, 2].map(() => freePort()));
  const routes = await Promise.all([0, 1, 2].map(() => freePort()));
  const servers = ports.map((port, i) => server(port, [
    '-js', '-sd', path.join(dir, `js-${i}`), '-a', '127.0.0.1', '-p', String(port), '-n', `n${i}`,
    '--cluster_name', 'pie', '--cluster', `nats://127.0.0.1:${routes[i]}`,
    '--routes', routes.filter((_, j) => j !== i).map((r) => `nats://127.0.0.1:${r}`).join(','),
  ]));
  await Promise.all(servers.map((s) => s.restart()));
  await jetStreamReady(servers.map((s) => s.url));
  return servers;
}

/** Waits until JetStream answers through these servers (a cluster elects its meta leader after the routes connect). */
async function jetStreamReady(urls: string[], timeoutMs = 30_000): Promise<void> {
  const nc = await connect({ servers: urls });
  try {
    const end = Date.now() + timeoutMs;
    for (;;) {
      try {
        await (await jetstreamManager(nc, { timeout: 1000 })).getAccountInfo();
        return;
      } catch (e) {
        if (Date.now() > end) throw new Error(`JetStream did not answer on ${urls.join(', ')}: ${String(e)}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  } finally {
    await nc.close();
  }
}

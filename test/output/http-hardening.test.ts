// What an unauthenticated peer can do to the real server over real sockets: hold descriptors (a
// flood under a lowered descriptor limit, in a child process, while ffmpeg must still start), keep
// sockets after an error answer, guess tokens quickly, and send requests Node answers badly.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { connectionCap, PieHttpServer, type HttpServerOptions } from '../../src/output/http-server.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const backend = (over: Partial<HttpServerOptions> = {}): HttpServerOptions => ({
  host: '127.0.0.1', port: 0, hlsRoot: '/nonexistent',
  cameras: () => ['cam1'], health: () => ({ status: 'ok' }), status: () => ({ cameras: [] }), stats: () => ({}),
  metrics: async () => ({ contentType: 'text/plain; version=0.0.4', body: 'pie_up 1\n' }),
  switchModel: async () => ({}), snapshot: async () => null, latestFaces: () => null, latestFacesJpeg: async () => null,
  attach: () => false, hasStream: () => false,
  ...over,
});

/** An open socket from `localAddress` (any 127.x.y.z is this machine), with when it closed. */
function connect(port: number, localAddress = '127.0.0.1'): Promise<net.Socket & { closedAt?: number; got?: string }> {
  return new Promise((resolve, reject) => {
    const s: net.Socket & { closedAt?: number; got?: string } = net.connect({ port, host: '127.0.0.1', localAddress, allowHalfOpen: true });
    s.got = '';
    s.on('data', (c: Buffer) => { s.got += c.toString(); });
    s.on('end', () => { s.closedAt = Date.now(); }); // the server's FIN: the peer may keep its own side open
    s.on('error', () => {});
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

const servers: PieHttpServer[] = [];
afterAll(async () => { await Promise.all(servers.map((s) => s.close())); });

describe('descriptors', () => {
  it('keeps descriptors for ffmpeg under a flood of idle sockets, and frees them by the first-request deadline', async () => {
    // ulimit -n 256: the cap is 128 connections; the flood opens 8 addresses × 64 = 512 sockets.
    const child = spawn('bash', ['-c', `ulimit -n 256 && exec "${process.execPath}" --import tsx ${path.join('test', 'output', 'fixtures', 'fd-limit-server.ts')}`],
      { env: { ...process.env, FIRST_REQUEST_MS: '3000' } }) as ChildProcessWithoutNullStreams;
    const lines = readline.createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    const ask = async (cmd?: string): Promise<string> => {
      if (cmd) child.stdin.write(`${cmd}\n`);
      const r = await lines.next();
      if (r.done) throw new Error(`child ended: ${stderr}`);
      return r.value;
    };
    try {
      const ready = await ask();
      expect(ready).toMatch(/^READY http:\/\/127\.0\.0\.1:\d+ limit=256 cap=128$/);
      const port = Number(/:(\d+) /.exec(ready)![1]);
      const flood = (await Promise.all(Array.from({ length: 512 }, (_, i) => connect(port, `127.0.0.${1 + (i % 8)}`).catch(() => undefined))))
        .filter((s) => s !== undefined);
      const t0 = Date.now();
      await sleep(1500);
      expect(await ask('conns')).toBe('CONNS 128');
      // Those over the cap were told so and closed, within the grace.
      const refused = flood.filter((s) => s.closedAt !== undefined);
      expect(refused.length).toBeGreaterThanOrEqual(flood.length - 128);
      expect(refused.some((s) => /^HTTP\/1\.1 503/.test(s.got!))).toBe(true);
      expect(await ask('spawn')).toBe('SPAWN ok');
      // The idle ones go at the first-request deadline (3 s here, 10 s by default).
      while (flood.some((s) => s.closedAt === undefined) && Date.now() - t0 < 8000) await sleep(100);
      expect(flood.filter((s) => s.closedAt === undefined)).toHaveLength(0);
      expect(await ask('conns')).toBe('CONNS 0');
      flood.forEach((s) => s.destroy());
    } finally {
      child.kill('SIGKILL');
    }
  }, 30_000);

  it('derives the cap from the descriptor limit, keeping a reserve', () => {
    expect(connectionCap(256)).toBe(128);
    expect(connectionCap(1024)).toBe(768);
    expect(connectionCap(1_048_576)).toBe(4096);
  });

  it('destroys a socket after an error answer even when the peer never closes its side', async () => {
    const server = await PieHttpServer.start(backend());
    servers.push(server);
    const port = Number(new URL(server.url).port);
    const bad = await connect(port);
    bad.write('NOT HTTP AT ALL\r\n\r\n');
    const missing = await connect(port);
    missing.write('GET /nothing HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n');
    await sleep(300);
    expect(bad.got).toMatch(/^HTTP\/1\.1 400/);
    expect(missing.got).toMatch(/^HTTP\/1\.1 404/);
    // Both peers keep their side open (allowHalfOpen): the server lets go anyway after its grace.
    const t0 = Date.now();
    while (server.connections > 0 && Date.now() - t0 < 3000) await sleep(50);
    expect(server.connections).toBe(0);
    bad.destroy();
    missing.destroy();
  });
});

describe('tokens', () => {
  it('makes wrong guesses from one address wait, doubling, and checks no token meanwhile', async () => {
    const server = await PieHttpServer.start(backend({ token: 'correct-horse', limits: { authFailuresFree: 3 } }));
    servers.push(server);
    const get = (token: string) => fetch(`${server.url}/api/cameras`, { headers: { authorization: `Bearer ${token}` } });
    // 3 free guesses and a 4th that starts a 250 ms wait, during which even the right token is not checked.
    expect([(await get('a')).status, (await get('b')).status, (await get('c')).status, (await get('d')).status]).toEqual([401, 401, 401, 401]);
    const waiting = await get('correct-horse');
    expect(waiting.status).toBe(429);
    expect(Number(waiting.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await waiting.json() as { error: string }).error).toMatch(/too many wrong tokens/);
    // /health needs no token and is not held back.
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    await sleep(300);
    expect((await get('correct-horse')).status).toBe(200);
    // A success forgets the failures: three free guesses again.
    expect([(await get('x')).status, (await get('y')).status]).toEqual([401, 401]);
  });

  it('checks only a handful of 40 rapid guesses: the waits double', async () => {
    const server = await PieHttpServer.start(backend({ token: 'correct-horse', limits: { authFailuresFree: 3 } }));
    servers.push(server);
    const statuses: number[] = [];
    for (let i = 0; i < 40; i++) statuses.push((await fetch(`${server.url}/api/cameras`, { headers: { authorization: `Bearer guess-${i}` } })).status);
    // Checked guesses come at 0, 0, 0, 0, then +250, +500, +1000 … ms: 40 local requests see few of them.
    const checked = statuses.filter((s) => s === 401).length;
    expect(checked).toBeGreaterThanOrEqual(4);
    expect(checked).toBeLessThanOrEqual(10);
    expect(statuses.filter((s) => s === 429).length).toBe(40 - checked);
  });
});

describe('requests Node answers badly by itself', () => {
  it('answers h2c upgrades over HTTP/1.1, CONNECT and a missing Host with JSON, /metrics with nosniff', async () => {
    const server = await PieHttpServer.start(backend());
    servers.push(server);
    const port = Number(new URL(server.url).port);
    const raw = async (request: string): Promise<string> => {
      const s = await connect(port);
      s.write(request);
      await new Promise((r) => s.once('end', r));
      s.destroy();
      return s.got!;
    };
    const h2c = await raw('GET /health HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: Upgrade, HTTP2-Settings\r\nupgrade: h2c\r\nhttp2-settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n');
    expect(h2c).toMatch(/^HTTP\/1\.1 200/);
    expect(JSON.parse(h2c.slice(h2c.indexOf('\r\n\r\n') + 4))).toEqual({ status: 'ok' });
    const connectAnswer = await raw('CONNECT example.com:443 HTTP/1.1\r\nhost: example.com:443\r\n\r\n');
    expect(connectAnswer).toMatch(/^HTTP\/1\.1 405/);
    expect(connectAnswer).toMatch(/not a proxy/);
    const noHost = await raw('GET /api/cameras HTTP/1.1\r\n\r\n');
    expect(noHost).toMatch(/^HTTP\/1\.1 400/);
    expect(noHost).toMatch(/"error":"the request has no Host header/);
    const metrics = await fetch(`${server.url}/metrics`);
    expect(metrics.headers.get('x-content-type-options')).toBe('nosniff');
  });
});

// The relay's bounds with real sockets: an upstream WebSocket server that sends as fast as it can,
// a viewer that stops reading (its socket paused), and the relay's cap on streams.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { ClusterProxy } from '../../src/cluster/proxy.js';
import { advertisedUrl } from '../../src/cluster/run.js';
import { until } from './helpers.js';

const CHUNK = Buffer.alloc(64 * 1024, 0x47);

describe('cluster relay bounds', () => {
  let upstream: WebSocketServer, front: http.Server, proxy: ClusterProxy, frontUrl: string;
  beforeAll(async () => {
    upstream = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((r) => upstream.once('listening', r));
    // Sends without regard for anyone: the relay must bound what it holds for its viewer.
    upstream.on('connection', (ws) => {
      const t = setInterval(() => { for (let i = 0; i < 8 && ws.readyState === WebSocket.OPEN; i++) ws.send(CHUNK); }, 5);
      ws.on('close', () => clearInterval(t));
    });
    const base = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
    proxy = new ClusterProxy(undefined, { maxWebSockets: 1, maxBufferedBytes: 256 * 1024, cutAfterMs: 1000 });
    front = http.createServer();
    front.on('upgrade', (req, socket, head) => proxy.relayWebSocket(req, socket, head, { base, remote: false }, '/ws/x/raw', (status, reason) => socket.end(`HTTP/1.1 ${status} ${reason}\r\ncontent-length: 0\r\n\r\n`)));
    await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
    frontUrl = `ws://127.0.0.1:${(front.address() as AddressInfo).port}/ws/x/raw`;
  });
  afterAll(async () => {
    proxy.close();
    front.closeAllConnections();
    await new Promise((r) => front.close(r));
    await new Promise((r) => upstream.close(r));
  });

  it('skips messages for a viewer that reads slowly, cuts one that stopped, and caps the streams it relays', async () => {
    const viewer = new WebSocket(frontUrl);
    await new Promise((r) => viewer.once('open', r));
    // A second stream is over the cap of 1: refused with 503 before any upgrade.
    const second = new WebSocket(frontUrl);
    const refused = await new Promise<number>((r) => { second.on('unexpected-response', (_q, res) => r(res.statusCode ?? 0)); second.on('open', () => r(101)); });
    expect(refused).toBe(503);
    expect(proxy.stats().refused).toBe(1);

    let received = 0;
    viewer.on('message', (m: Buffer) => { received += m.length; });
    await until('bytes flowing', () => received > 10 * CHUNK.length);
    // Stop reading: the kernel's buffers fill, then the relay's own queue for this viewer.
    (viewer as unknown as { _socket: import('node:net').Socket })._socket.pause();
    await until('messages skipped', () => proxy.stats().skipped > 0, 20_000);
    await until('the viewer cut', () => proxy.stats().cut === 1, 30_000);
    await until('the relay slot freed', () => proxy.stats().webSockets === 0, 10_000);
    viewer.terminate();
  }, 60_000);
});

describe('site-wide events relay', () => {
  it('feeds one viewer socket from every camera\'s events, and reopens a feed that ended', async () => {
    // Two "apps", each serving one camera's events (text messages, as the app's /ws/<camera>/events).
    const apps = await Promise.all(['front', 'yard'].map(async (camera) => {
      const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
      await new Promise((r) => wss.once('listening', r));
      const paths: string[] = [];
      wss.on('connection', (ws, req) => {
        paths.push(req.url ?? '');
        const t = setInterval(() => ws.send(JSON.stringify({ camera, seq: Date.now() })), 50);
        ws.on('close', () => clearInterval(t));
      });
      return { camera, wss, paths, base: `http://127.0.0.1:${(wss.address() as AddressInfo).port}` };
    }));
    const relay = new ClusterProxy(undefined);
    const server = http.createServer();
    server.on('upgrade', (req, socket, head) => relay.relayEvents(req, socket, head, () => apps.map((a) => ({ camera: a.camera, up: { base: a.base, remote: false } })), () => socket.destroy()));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const viewer = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws/events`);
    const got: Array<{ camera: string; binary: boolean }> = [];
    viewer.on('message', (m: Buffer, binary: boolean) => got.push({ camera: (JSON.parse(m.toString()) as { camera: string }).camera, binary }));
    try {
      await until('events of both cameras', () => new Set(got.map((g) => g.camera)).size === 2, 10_000);
      expect(got.every((g) => !g.binary)).toBe(true);
      expect(apps.map((a) => a.paths)).toEqual([['/ws/front/events'], ['/ws/yard/events']]);
      // The yard feed ends (its camera moved): the relay opens it again.
      for (const c of apps[1]!.wss.clients) c.terminate();
      await until('yard\'s feed reopened', () => apps[1]!.paths.length === 2, 10_000);
      const n = got.length;
      await until('yard events again', () => got.slice(n).some((g) => g.camera === 'yard'), 10_000);
    } finally {
      viewer.terminate();
      relay.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await Promise.all(apps.map((a) => new Promise((r) => a.wss.close(r))));
    }
    await until('the relay slot freed', () => relay.stats().webSockets === 0, 5000);
  }, 30_000);
});

describe('advertised url', () => {
  const nets = { lo: [{ address: '127.0.0.1', family: 'IPv4', internal: true }], eth0: [{ address: 'fe80::1', family: 'IPv6', internal: false }, { address: '10.0.0.5', family: 'IPv4', internal: false }] } as unknown as Parameters<typeof advertisedUrl>[2];
  it('is the listening address, or this machine\'s first outside IPv4 address for a wildcard', () => {
    expect(advertisedUrl('127.0.0.1', 8080, nets)).toBe('http://127.0.0.1:8080');
    expect(advertisedUrl('0.0.0.0', 8081, nets)).toBe('http://10.0.0.5:8081');
    expect(advertisedUrl('::', 8081, nets)).toBe('http://10.0.0.5:8081');
    expect(advertisedUrl('fd00::7', 80, nets)).toBe('http://[fd00::7]:80');
  });
});

import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { PieHttpServer } from '../../src/output/http-server.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pie-http-'));
fs.mkdirSync(path.join(root, 'cam1', 'enhanced'), { recursive: true });
fs.writeFileSync(path.join(root, 'cam1', 'enhanced', 'index.m3u8'), '#EXTM3U\n');
fs.writeFileSync(path.join(root, 'secret.txt'), 'do not serve');
let server: PieHttpServer;
const attached: string[] = [];

beforeAll(async () => {
  server = await PieHttpServer.start({
    host: '127.0.0.1', port: 0, token: 's3cret', hlsRoot: root,
    cameras: () => ['cam1'],
    health: () => ({ status: 'ok' }),
    status: () => ({ cameras: [{ name: 'cam1', state: 'online' }] }),
    hasStream: (c, v) => c === 'cam1' && v === 'enhanced',
    attach: (c, v, ws) => { attached.push(`${c}/${v}`); ws.send('hello'); return true; },
  });
});
afterAll(async () => { await server.close(); await server.close(); });

const get = (p: string, headers: Record<string, string> = {}) => fetch(`${server.url}${p}`, { headers });
const auth = { authorization: 'Bearer s3cret' };

/** Sends a raw request line, so paths reach the server exactly as written (fetch normalises ../). */
function rawGet(p: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const u = new URL(server.url);
    const s = net.connect(Number(u.port), u.hostname, () => s.write(`GET ${p} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer s3cret\r\nconnection: close\r\n\r\n`));
    let data = '';
    s.on('data', (c) => { data += c; }).on('end', () => resolve(data)).on('error', reject);
  });
}

describe('the HTTP server', () => {
  it('answers /health without a token and everything else only with one', async () => {
    expect(await (await get('/health')).json()).toEqual({ status: 'ok' });
    const denied = await get('/api/cameras');
    expect(denied.status).toBe(401);
    expect((await denied.json()).error).toMatch(/token is required/);
    expect((await get('/api/cameras?token=wrong')).status).toBe(401);
    expect((await get('/api/cameras?token=s3cret')).status).toBe(200);
    expect((await (await get('/api/cameras', auth)).json()).cameras[0].name).toBe('cam1');
  });

  it('serves HLS files of known cameras and nothing by a path the client writes', async () => {
    const ok = await get('/hls/cam1/enhanced/index.m3u8', auth);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toBe('application/vnd.apple.mpegurl');
    expect(await ok.text()).toBe('#EXTM3U\n');
    expect((await get('/hls/cam1/enhanced/missing.ts', auth)).status).toBe(404);
    expect((await get('/hls/nope/enhanced/index.m3u8', auth)).status).toBe(404);
    for (const p of ['/hls/cam1/enhanced/..%2F..%2Fsecret.txt', '/hls/cam1/../../secret.txt', '/hls/cam1/enhanced/%2e%2e%2fsecret.txt', '/hls/..%2f/enhanced/secret.txt']) {
      const r = await rawGet(p);
      expect(r, p).toMatch(/^HTTP\/1\.1 404/);
      expect(r).not.toMatch(/do not serve/);
    }
  });

  it('refuses other methods and malformed requests with a JSON 4xx', async () => {
    const r = await fetch(`${server.url}/health`, { method: 'POST', body: 'x' });
    expect(r.status).toBe(405);
    expect((await r.json()).error).toMatch(/only serves GET/);
    expect((await get('/nowhere', auth)).status).toBe(404);
  });

  it('routes WebSocket upgrades to the camera stream, with the token checked', async () => {
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/ws/cam1/enhanced?token=s3cret`);
    const first = await new Promise<string>((resolve, reject) => { ws.once('message', (m) => resolve(String(m))); ws.once('error', reject); });
    expect(first).toBe('hello');
    expect(attached).toContain('cam1/enhanced');
    ws.close();
    const status = (p: string) => new Promise<number>((resolve) => {
      const w = new WebSocket(`${server.url.replace('http', 'ws')}${p}`);
      w.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      w.once('open', () => resolve(101));
      w.once('error', () => {});
    });
    expect(await status('/ws/cam1/enhanced')).toBe(401);
    expect(await status('/ws/cam1/raw?token=s3cret')).toBe(404);
  });
});

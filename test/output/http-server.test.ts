// The HTTP server on its own: routing, access control and bounds, with small in-test backends (the
// real app behind it is tested in api.test.ts and the browser test).
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { ApiError } from '../../src/output/api.js';
import { PieHttpServer, type HttpServerOptions } from '../../src/output/http-server.js';
import { PieError } from '../../src/errors.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pie-http-'));
fs.mkdirSync(path.join(root, 'cam1', 'enhanced'), { recursive: true });
fs.writeFileSync(path.join(root, 'cam1', 'enhanced', 'index.m3u8'), '#EXTM3U\n');
fs.writeFileSync(path.join(root, 'secret.txt'), 'do not serve');
const attached: string[] = [];
const switched: Array<{ camera: string; path: string }> = [];

const backend = (over: Partial<HttpServerOptions> = {}): HttpServerOptions => ({
  host: '127.0.0.1', port: 0, hlsRoot: root,
  cameras: () => ['cam1'],
  health: () => ({ status: 'ok' }),
  status: () => ({ cameras: [{ name: 'cam1', state: 'online' }] }),
  stats: () => ({ cameras: { cam1: { camera_fps: 10 } } }),
  metrics: async () => ({ contentType: 'text/plain; version=0.0.4', body: 'pie_up 1\n' }),
  switchModel: async (camera, req) => {
    if (req.path.includes('outside')) throw new ApiError(403, 'outside the model folders');
    if (req.path.includes('broken')) throw new PieError('model', 'broken.onnx is not an ONNX model', 'pass a .onnx file written by pie-stream');
    if (req.path.includes('crash')) throw new Error('failed on rtsp://admin:hunter2@cam/stream');
    switched.push({ camera, path: req.path });
    return { camera, model: req.path };
  },
  snapshot: async (camera, variant) => (variant === 'enhanced' ? new Uint8Array([0xff, 0xd8, 0xff, 0xd9]) : null),
  latestFaces: () => null,
  latestFacesJpeg: async () => null,
  hasStream: (c, v) => c === 'cam1' && v === 'enhanced',
  attach: (c, v, ws) => { attached.push(`${c}/${v}`); ws.send('hello'); return true; },
  ...over,
});

let server: PieHttpServer;
beforeAll(async () => {
  server = await PieHttpServer.start(backend({ token: 's3cret', limits: { maxConnectionsPerAddress: 12, maxWsPerAddress: 3, authFailuresFree: 1000 } }));
});
afterAll(async () => { await server.close(); await server.close(); });

const get = (p: string, headers: Record<string, string> = {}) => fetch(`${server.url}${p}`, { headers });
const auth = { authorization: 'Bearer s3cret' };
const post = (p: string, body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
  fetch(`${server.url}${p}`, { method: 'POST', headers: { ...auth, ...headers }, body });

/** Sends raw bytes and returns the whole answer, so requests reach the server exactly as written (fetch normalises ../). */
function raw(url: string, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const s = net.connect(Number(u.port), u.hostname, () => s.write(request));
    let data = '';
    s.on('data', (c) => { data += c; }).on('end', () => resolve(data)).on('error', reject);
  });
}
const rawGet = (p: string, headers = 'authorization: Bearer s3cret\r\n') => raw(server.url, `GET ${p} HTTP/1.1\r\nhost: 127.0.0.1\r\n${headers}connection: close\r\n\r\n`);
const jsonOf = (answer: string): { error: string } => JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as { error: string };

const wsUrl = (p: string) => `${server.url.replace('http', 'ws')}${p}`;
/** The HTTP status an upgrade got (101 when accepted). */
const upgradeStatus = (p: string, headers: Record<string, string> = {}) => new Promise<number>((resolve) => {
  const w = new WebSocket(wsUrl(p), { headers });
  w.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
  w.once('open', () => { resolve(101); w.close(); });
  w.once('error', () => {});
});

describe('access', () => {
  it('answers /health without a token and everything else only with one', async () => {
    expect(await (await get('/health')).json()).toEqual({ status: 'ok' });
    for (const p of ['/api/cameras', '/api/stats', '/metrics', '/static/viewer.js', '/hls/cam1/enhanced/index.m3u8', '/api/cameras/cam1/snapshot.jpg']) {
      const denied = await get(p);
      expect(denied.status, p).toBe(401);
      expect((await denied.json()).error).toMatch(/token is required/);
    }
    expect((await get('/api/cameras?token=wrong')).status).toBe(401);
    expect((await get('/api/cameras', { authorization: 'Bearer s3cre' })).status).toBe(401);
    expect((await get('/api/cameras?token=s3cret')).status).toBe(200);
    expect((await (await get('/api/cameras', auth)).json()).cameras[0].name).toBe('cam1');
    const denied = await post('/api/cameras/cam1/model', '{"path":"x.onnx"}', { 'content-type': 'application/json', authorization: 'Bearer nope' });
    expect(denied.status).toBe(401);
    expect(switched).toEqual([]);
  });

  it('gives a browser a login form, then a cookie for ?token= and an address without it', async () => {
    const page = await get('/', { accept: 'text/html' });
    expect(page.status).toBe(401);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(await page.text()).toMatch(/<form method="get" action="\/">[\s\S]*name="token"/);
    const login = await fetch(`${server.url}/?token=s3cret&transport=hls`, { redirect: 'manual' });
    expect(login.status).toBe(303);
    expect(login.headers.get('location')).toBe('/?transport=hls');
    const cookie = login.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^pie_token=s3cret; Path=\/; HttpOnly; SameSite=Strict$/);
    const viewer = await get('/', { cookie: cookie.split(';')[0]! });
    expect(viewer.status).toBe(200);
    expect(viewer.headers.get('content-security-policy')).toMatch(/script-src 'self' 'wasm-unsafe-eval'/);
    expect(await viewer.text()).toMatch(/<script src="\/static\/viewer\.js" type="module">/);
    expect((await get('/api/stats', { cookie: 'pie_token=wrong' })).status).toBe(401);
  });

  it('checks WebSocket upgrades: token, origin, known streams, connections per address', async () => {
    const ws = new WebSocket(wsUrl('/ws/cam1/enhanced?token=s3cret'));
    const first = await new Promise<string>((resolve, reject) => { ws.once('message', (m) => resolve(String(m))); ws.once('error', reject); });
    expect(first).toBe('hello');
    expect(attached).toContain('cam1/enhanced');
    ws.close();
    expect(await upgradeStatus('/ws/cam1/enhanced')).toBe(401);
    expect(await upgradeStatus('/ws/cam1/enhanced', { cookie: 'pie_token=s3cret' })).toBe(101);
    expect(await upgradeStatus('/ws/cam1/raw?token=s3cret')).toBe(404);
    expect(await upgradeStatus('/ws/nope/events?token=s3cret')).toBe(404);
    expect(await upgradeStatus('/ws/%E0%A4%A/events?token=s3cret')).toBe(404);
    expect(await upgradeStatus('/ws/../../etc/enhanced?token=s3cret')).toBe(404);
    // A page elsewhere cannot ride on the viewer's cookie.
    expect(await upgradeStatus('/ws/cam1/enhanced', { cookie: 'pie_token=s3cret', origin: 'http://evil.example' })).toBe(403);
    const u = new URL(server.url);
    expect(await upgradeStatus('/ws/cam1/enhanced', { cookie: 'pie_token=s3cret', origin: `http://${u.host}` })).toBe(101);

    // maxWsPerAddress is 3 here: the fourth is refused, and a closed one frees its place.
    const open = await Promise.all([1, 2, 3].map(() => new Promise<WebSocket>((resolve, reject) => {
      const w = new WebSocket(wsUrl('/ws/events?token=s3cret'));
      w.once('open', () => resolve(w)).once('error', reject);
    })));
    expect(await upgradeStatus('/ws/events?token=s3cret')).toBe(429);
    const closed = new Promise((r) => open[0]!.once('close', r));
    open[0]!.close();
    await closed;
    await new Promise((r) => setTimeout(r, 50));
    expect(await upgradeStatus('/ws/events?token=s3cret')).toBe(101);
    for (const w of open) w.close();
  });

  it('refuses to listen beyond loopback without a token', async () => {
    await expect(PieHttpServer.start(backend({ host: '0.0.0.0' }))).rejects.toThrow(/refusing to listen on 0\.0\.0\.0 without a token[\s\S]*fix: set server\.token/);
  });

  it('without a token, answers only requests addressed to this machine (no DNS rebinding)', async () => {
    const open = await PieHttpServer.start(backend());
    try {
      expect((await fetch(`${open.url}/api/cameras`)).status).toBe(200);
      const rebound = await raw(open.url, 'GET /api/cameras HTTP/1.1\r\nhost: evil.example:8080\r\nconnection: close\r\n\r\n');
      expect(rebound).toMatch(/^HTTP\/1\.1 403/);
      expect(jsonOf(rebound).error).toMatch(/addressed to this machine/);
      expect(await raw(open.url, 'GET /health HTTP/1.1\r\nhost: evil.example\r\nconnection: close\r\n\r\n')).toMatch(/^HTTP\/1\.1 200/);
      expect(await raw(open.url, 'GET / HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n')).toMatch(/^HTTP\/1\.1 200/);
    } finally {
      await open.close();
    }
  });
});

describe('serving', () => {
  it('serves the viewer and its players from a fixed table, with validators', async () => {
    for (const [p, type] of [['/static/viewer.js', /javascript/], ['/static/viewer.css', /text\/css/], ['/static/jsmpeg.min.js', /javascript/], ['/static/hls.light.min.js', /javascript/]] as const) {
      const r = await get(p, auth);
      expect(r.status, p).toBe(200);
      expect(r.headers.get('content-type')).toMatch(type);
      expect((await r.arrayBuffer()).byteLength).toBeGreaterThan(1000);
      const again = await get(p, { ...auth, 'if-none-match': r.headers.get('etag')! });
      expect(again.status).toBe(304);
    }
    expect(await (await get('/static/jsmpeg.min.js', auth)).text()).toMatch(/WebSocket/);
  });

  it('serves HLS files of known cameras, the API, metrics and snapshots', async () => {
    const ok = await get('/hls/cam1/enhanced/index.m3u8', auth);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toBe('application/vnd.apple.mpegurl');
    expect(await ok.text()).toBe('#EXTM3U\n');
    expect((await get('/hls/cam1/enhanced/missing.ts', auth)).status).toBe(404);
    expect((await get('/hls/nope/enhanced/index.m3u8', auth)).status).toBe(404);
    expect(await (await get('/api/stats', auth)).json()).toEqual({ cameras: { cam1: { camera_fps: 10 } } });
    const m = await get('/metrics', auth);
    expect(m.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await m.text()).toBe('pie_up 1\n');
    const snap = await get('/api/cameras/cam1/snapshot.jpg', auth);
    expect(snap.headers.get('content-type')).toBe('image/jpeg');
    expect([...new Uint8Array(await snap.arrayBuffer())]).toEqual([0xff, 0xd8, 0xff, 0xd9]);
    const none = await get('/api/cameras/cam1/snapshot.jpg?variant=raw', auth);
    expect(none.status).toBe(503);
    expect(none.headers.get('retry-after')).toBe('1');
    expect((await none.json()).error).toMatch(/no raw frame yet/);
    expect((await get('/api/cameras/cam1/snapshot.jpg?variant=../x', auth)).status).toBe(400);
    expect((await get('/api/cameras/cam9/snapshot.jpg', auth)).status).toBe(404);
  });

  it('serves the latest face detection as JSON and JPEG, 404 JSON before the first and when detection is off', async () => {
    const event = { camera: 'cam1', seq: 7, ts: 1_700_000_000_000, width: 64, height: 36, faces: [{ box: { x: 1, y: 2, width: 10, height: 12 }, score: 0.9, keypoints: [] }] };
    let latest: typeof event | null = null;
    const s = await PieHttpServer.start(backend({
      latestFaces: (camera) => {
        if (camera !== 'cam1') throw new ApiError(404, 'face detection is off', 'set detect.enabled: true');
        return latest;
      },
      latestFacesJpeg: async () => (latest ? new Uint8Array([0xff, 0xd8, 0xff, 0xd9]) : null),
      cameras: () => ['cam1', 'cam2'],
    }));
    try {
      for (const p of ['/api/cameras/cam1/faces/latest', '/api/cameras/cam1/faces/latest.jpg']) {
        const r = await fetch(`${s.url}${p}`);
        expect(r.status, p).toBe(404);
        expect(await r.json()).toEqual({ error: 'no face detected on camera cam1 yet', fix: expect.stringMatching(/once a face is in view/) });
      }
      latest = event;
      expect(await (await fetch(`${s.url}/api/cameras/cam1/faces/latest`)).json()).toEqual(event);
      const jpg = await fetch(`${s.url}/api/cameras/cam1/faces/latest.jpg`);
      expect(jpg.headers.get('content-type')).toBe('image/jpeg');
      expect([...new Uint8Array(await jpg.arrayBuffer())]).toEqual([0xff, 0xd8, 0xff, 0xd9]);
      const off = await fetch(`${s.url}/api/cameras/cam2/faces/latest.jpg`);
      expect([off.status, await off.json()]).toEqual([404, { error: 'face detection is off', fix: 'set detect.enabled: true' }]);
      expect((await fetch(`${s.url}/api/cameras/cam9/faces/latest`)).status).toBe(404);
      expect((await fetch(`${s.url}/api/cameras/cam1/faces/latest`, { method: 'POST' })).status).toBe(405);
    } finally {
      await s.close();
    }
  });

  it('serves nothing by a path the client writes', async () => {
    const attempts = ['/hls/cam1/enhanced/..%2F..%2Fsecret.txt', '/hls/cam1/../../secret.txt', '/hls/cam1/enhanced/%2e%2e%2fsecret.txt', '/hls/..%2f/enhanced/secret.txt',
      '/static/../package.json', '/static/..%2f..%2fpackage.json', '/static/%2e%2e/%2e%2e/package.json', '//etc/passwd', '/static//etc/passwd', '/web/index.html',
      '/api/cameras/..%2F..%2Fetc/snapshot.jpg', '/hls/cam1/enhanced/index.m3u8%00.txt', '/static/viewer.js/../../../README.md'];
    for (const p of attempts) {
      const r = await rawGet(p);
      expect(r, p).toMatch(/^HTTP\/1\.1 404/);
      expect(r).not.toMatch(/do not serve|"name": "pie-stream"|root:/);
      expect(jsonOf(r).error, p).toMatch(/^(nothing at|no HLS file|no camera)/);
    }
  });
});

describe('the model switch endpoint', () => {
  it('passes a valid body on and answers with the result', async () => {
    const r = await post('/api/cameras/cam1/model', JSON.stringify({ path: 'models/b.onnx' }));
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ camera: 'cam1', model: 'models/b.onnx' });
    expect(switched.at(-1)).toEqual({ camera: 'cam1', path: 'models/b.onnx' });
  });

  it('answers every malformed request with a 4xx JSON error', async () => {
    const cases: Array<[string, () => Promise<Response>, number, RegExp]> = [
      ['malformed JSON', () => post('/api/cameras/cam1/model', '{"path": '), 400, /malformed JSON/],
      ['not an object', () => post('/api/cameras/cam1/model', '"models/b.onnx"'), 400, /invalid request body/],
      ['unknown key', () => post('/api/cameras/cam1/model', '{"path":"a.onnx","exec":"rm -rf"}'), 400, /invalid request body/],
      ['wrong type', () => post('/api/cameras/cam1/model', '{"path":5}'), 400, /invalid request body/],
      ['empty path', () => post('/api/cameras/cam1/model', '{"path":""}'), 400, /invalid request body/],
      ['not JSON', () => post('/api/cameras/cam1/model', 'path=a.onnx', { 'content-type': 'application/x-www-form-urlencoded' }), 415, /must be JSON/],
      ['no content type', () => post('/api/cameras/cam1/model', '{"path":"a.onnx"}', {}), 415, /must be JSON/],
      ['unknown camera', () => post('/api/cameras/nope/model', '{"path":"a.onnx"}'), 404, /no camera "nope"/],
      ['GET on a POST route', () => get('/api/cameras/cam1/model', auth), 405, /GET is not allowed/],
      ['POST on a GET route', () => post('/api/stats', '{}'), 405, /POST is not allowed on \/api\/stats/],
      ['DELETE', () => fetch(`${server.url}/health`, { method: 'DELETE' }), 405, /DELETE is not allowed/],
      ['outside the model folders', () => post('/api/cameras/cam1/model', '{"path":"outside.onnx"}'), 403, /outside the model folders/],
      ['not a model', () => post('/api/cameras/cam1/model', '{"path":"broken.onnx"}'), 422, /broken\.onnx is not an ONNX model/],
    ];
    for (const [what, send, status, message] of cases) {
      const r = await send();
      expect(r.status, what).toBe(status);
      expect(r.headers.get('content-type'), what).toBe('application/json');
      expect((await r.json()).error, what).toMatch(message);
    }
    const issues = await (await post('/api/cameras/cam1/model', '{"path":"a.onnx","x":1}')).json();
    expect(issues.issues[0].message).toMatch(/x/);
    const model = await (await post('/api/cameras/cam1/model', '{"path":"broken.onnx"}')).json();
    expect(model.fix).toMatch(/pass a \.onnx file/);
  });

  it('masks credentials in an internal error', async () => {
    const r = await post('/api/cameras/cam1/model', '{"path":"crash.onnx"}');
    expect(r.status).toBe(500);
    const text = await r.text();
    expect(text).not.toMatch(/hunter2|admin/);
    expect(text).toMatch(/rtsp:\/\/\*\*\*:\*\*\*@cam/);
  });
});

describe('bounds', () => {
  it('refuses oversized bodies, URLs and headers with JSON', async () => {
    const big = await post('/api/cameras/cam1/model', JSON.stringify({ path: 'a'.repeat(5000) + '.onnx' }));
    expect(big.status).toBe(413);
    expect((await big.json()).error).toMatch(/over 4096/);
    // Chunked, with no length announced: cut off while streaming.
    const chunked = await raw(server.url, 'POST /api/cameras/cam1/model HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer s3cret\r\n' +
      `content-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n1400\r\n${'x'.repeat(0x1400)}\r\n0\r\n\r\n`);
    expect(chunked).toMatch(/^HTTP\/1\.1 413/);
    expect(switched.filter((s) => s.path.length > 1000)).toEqual([]);

    const longUrl = await get(`/api/cameras?${'q'.repeat(3000)}`, auth);
    expect(longUrl.status).toBe(414);
    expect((await longUrl.json()).error).toMatch(/URL over 2048/);
    const headers = await rawGet('/api/cameras', `authorization: Bearer s3cret\r\nx-junk: ${'j'.repeat(9000)}\r\n`);
    expect(headers).toMatch(/^HTTP\/1\.1 431/);
    expect(jsonOf(headers).error).toMatch(/headers over 8192 bytes/);
    const garbage = await raw(server.url, 'NOT HTTP AT ALL\r\n\r\n');
    expect(garbage).toMatch(/^HTTP\/1\.1 400/);
    expect(jsonOf(garbage).error).toMatch(/malformed HTTP request/);
  });

  it('bounds connections per client address', async () => {
    // maxConnectionsPerAddress is 12 here: hold 12 idle connections open, the 13th is told 429.
    const u = new URL(server.url);
    const held = await Promise.all(Array.from({ length: 12 }, () => new Promise<net.Socket>((resolve) => {
      const s = net.connect(Number(u.port), u.hostname, () => resolve(s));
    })));
    await new Promise((r) => setTimeout(r, 50));
    const over = await rawGet('/api/cameras');
    expect(over).toMatch(/^HTTP\/1\.1 429/);
    expect(jsonOf(over).error).toMatch(/too many connections/);
    await Promise.all(held.map((s) => new Promise((r) => { s.once('close', r); s.destroy(); })));
    await new Promise((r) => setTimeout(r, 50));
    expect(await rawGet('/api/cameras')).toMatch(/^HTTP\/1\.1 200/);
  });
});

describe('detection events', () => {
  it('go to subscribers of their camera and of all cameras, validated', async () => {
    const open = (p: string) => new Promise<{ ws: WebSocket; got: unknown[] }>((resolve, reject) => {
      const ws = new WebSocket(wsUrl(p));
      const got: unknown[] = [];
      ws.on('message', (m) => got.push(JSON.parse(String(m))));
      ws.once('open', () => resolve({ ws, got })).once('error', reject);
    });
    const one = await open('/ws/cam1/events?token=s3cret');
    const all = await open('/ws/events?token=s3cret');
    const event = { camera: 'cam1', seq: 7, ts: 1700000000000, faces: [{ box: { x: 10, y: 20, width: 30, height: 40 }, score: 0.9, keypoints: [{ x: 15, y: 25 }] }] };
    server.events.publish(event);
    server.events.publish({ ...event, camera: 'cam2', seq: 8 });
    await new Promise((r) => setTimeout(r, 100));
    expect(one.got).toEqual([event]);
    expect(all.got).toEqual([event, { ...event, camera: 'cam2', seq: 8 }]);
    expect(() => server.events.publish({ ...event, faces: [{ ...event.faces[0]!, score: 2 }] })).toThrow(/invalid detection event: faces\.0\.score/);
    expect(server.events.stats()).toMatchObject({ clients: 2, published: 2 });
    one.ws.close();
    all.ws.close();
  });
});

// The JSON API, /metrics and the event socket against a running pipeline: a synthetic ffmpeg camera,
// ONNX Runtime, the real HLS and JSMpeg encoders, and an RTSP camera that cannot be reached (with a
// password that must appear nowhere). Every response is parsed with the API's own schemas.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { PieApp } from '../../src/app.js';
import { encoderSinks } from '../../src/cli/run.js';
import { parseConfig } from '../../src/config/load.js';
import { blazeFaceModelPath } from '../../src/detect/models.js';
import { DEFAULT_MODEL_PATH } from '../../src/enhance/enhancer.js';
import { LAYER_NAMES, expectedShape, type DceNetWeights } from '../../src/enhance/dcenet.js';
import { dceNetModelBytes } from '../../src/enhance/model-file.js';
import { f32 } from '../../src/onnx/tensor.js';
import {
  camerasResponseSchema, errorSchema, healthSchema, modelSwitchResponseSchema, statsResponseSchema, type CamerasResponse, type StatsResponse,
} from '../../src/output/api.js';
import { detectionEventSchema } from '../../src/output/events.js';
import { meanOf, pipeThrough } from './helpers.js';

const W = 160, H = 96;
const TOKEN = 'api-test-token';
const models = fs.mkdtempSync(path.join(os.tmpdir(), 'pie-models-'));
const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'pie-elsewhere-'));

/** All-zero weights: every curve is r = tanh(0) = 0, so the "enhanced" frame is the input. */
function identityWeights(): DceNetWeights {
  return Object.fromEntries(LAYER_NAMES.map((l) => [l, { weight: f32(expectedShape(l, 'weight')), bias: f32(expectedShape(l, 'bias')) }])) as DceNetWeights;
}

let app: PieApp;
const auth = { authorization: `Bearer ${TOKEN}` };
const get = (p: string) => fetch(`${app.url}${p}`, { headers: auth });
const getJson = async (p: string): Promise<unknown> => (await get(p)).json();
const switchTo = (camera: string, body: unknown) =>
  fetch(`${app.url}/api/cameras/${camera}/model`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
const stats = async (): Promise<StatsResponse> => statsResponseSchema.parse(await getJson('/api/stats'));
const cameras = async (): Promise<CamerasResponse> => camerasResponseSchema.parse(await getJson('/api/cameras'));

const until = async (what: string, cond: () => boolean | Promise<boolean>, ms: number): Promise<void> => {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

/** Mean brightness (0–1) of a camera's snapshot, decoded by ffmpeg. */
async function snapshotMean(variant: 'raw' | 'enhanced'): Promise<number> {
  const r = await get(`/api/cameras/night/snapshot.jpg?variant=${variant}`);
  expect(r.status).toBe(200);
  expect(r.headers.get('content-type')).toBe('image/jpeg');
  const rgb = await pipeThrough(['-hide_banner', '-loglevel', 'error', '-f', 'image2pipe', '-i', 'pipe:0', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], new Uint8Array(await r.arrayBuffer()));
  expect(rgb.length).toBe(W * H * 3);
  return meanOf(rgb);
}

beforeAll(async () => {
  fs.copyFileSync(DEFAULT_MODEL_PATH, path.join(models, 'site.onnx'));
  fs.writeFileSync(path.join(models, 'identity.onnx'), dceNetModelBytes(identityWeights(), { date: '2026-01-02T03:04:05Z', trained: 'identity: all weights zero' }));
  fs.writeFileSync(path.join(models, 'garbage.onnx'), 'this is not a model');
  fs.copyFileSync(blazeFaceModelPath('front'), path.join(models, 'blazeface.onnx'));
  fs.copyFileSync(DEFAULT_MODEL_PATH, path.join(elsewhere, 'evil.onnx'));
  fs.symlinkSync(path.join(elsewhere, 'evil.onnx'), path.join(models, 'link.onnx'));
  const config = parseConfig(`
cameras:
  - name: night
    input: "synthetic:exposure=0.08,noise=4"
    width: ${W}
    height: ${H}
    fps: 10
    outputs: { hls: [enhanced], websocket: [raw, enhanced] }
  - name: door
    input: rtsp://admin:\${CAM_PASS}@127.0.0.1:9/stream
    width: ${W}
    height: ${H}
    outputs: { hls: [], websocket: [enhanced] }
enhance: { model: ${path.join(models, 'site.onnx')}, scale: 1/4, exposure: model, batch: { maxSize: 2, maxWaitMs: 20 } }
server: { host: 127.0.0.1, port: 0, token: ${TOKEN} }
`, { env: { CAM_PASS: 'hunter2' } });
  app = await PieApp.start(config, { sinks: encoderSinks });
  await until('night online and enhanced', async () => (await stats()).cameras.night!.process_fps > 3, 30_000);
}, 60_000);

afterAll(async () => {
  await app?.close();
  fs.rmSync(models, { recursive: true, force: true });
  fs.rmSync(elsewhere, { recursive: true, force: true });
});

describe('the API on a running pipeline', () => {
  it('serves every endpoint in its schema, with the camera figures', async () => {
    expect(healthSchema.parse(await (await fetch(`${app.url}/health`)).json()).cameras.map((c) => c.name)).toEqual(['night', 'door']);

    const cams = await cameras();
    const night = cams.cameras.find((c) => c.camera === 'night')!;
    expect(night).toMatchObject({ state: 'online', width: W, height: H, fps: 10, provider: 'cpu', streams: { websocket: ['raw', 'enhanced'], hls: ['enhanced'] } });
    expect(night.framesProcessed).toBeGreaterThan(5);
    expect(night.model).toMatchObject({ name: 'site.onnx', path: path.join(models, 'site.onnx'), dateSource: 'file' });
    expect(night.model.trained).toMatch(/pie-stream train, 450 steps/); // the shipped model says how it was trained
    expect(Date.parse(night.model.date!)).toBeGreaterThan(Date.now() - 600_000);
    const door = cams.cameras.find((c) => c.camera === 'door')!;
    expect(door.state).not.toBe('online');
    expect(door.input).toBe('rtsp://***:***@127.0.0.1:9/stream (tcp)');

    const s = await stats();
    expect(s.cameras.night!.camera_fps).toBeGreaterThan(5);
    expect(s.cameras.night!.process_fps).toBeGreaterThan(3);
    expect(s.cameras.night!.latency_ms.p50).toBeGreaterThan(0);
    expect(s.cameras.night!.detection_fps).toBe(0);
    expect(s.cameras.door).toMatchObject({ camera_fps: 0, process_fps: 0 });
    expect(s.enhancers).toHaveLength(1);
    expect(s.enhancers[0]!.batches).toBeGreaterThan(5);
    expect(s.service.version).toMatch(/^\d+\.\d+\.\d+/);

    const metrics = await (await get('/metrics')).text();
    expect(metrics).toMatch(/^pie_camera_up\{camera="night"\} 1$/m);
    expect(metrics).toMatch(/^pie_camera_up\{camera="door"\} 0$/m);
    expect(metrics).toMatch(/^pie_frames_processed_total\{camera="night"\} [1-9]\d*$/m);
    expect(metrics).toMatch(/^pie_inference_seconds_count\{model="site\.onnx"\} [1-9]\d*$/m);
    expect(metrics).toMatch(/^pie_latency_seconds_bucket\{le="\+Inf",camera="night"\} [1-9]\d*$/m);
    expect(metrics).toMatch(/^pie_batch_size_bucket\{le="1",model="site\.onnx"\} \d+$/m);
    expect(metrics).toMatch(/^pie_ws_clients\{camera="night",variant="enhanced"\} 0$/m);

    // The snapshot is the newest enhanced frame: the night scene, brighter than the raw one.
    const [enh, rawMean] = [await snapshotMean('enhanced'), await snapshotMean('raw')];
    expect(enh).toBeGreaterThan(2 * rawMean);
    const viewer = await get('/');
    expect(viewer.status).toBe(200);
    expect(await viewer.text()).toMatch(/<title>pie-stream<\/title>/);
  }, 30_000);

  it('masks camera credentials in every response', async () => {
    await until('the door camera to have failed', async () => (await cameras()).cameras.find((c) => c.camera === 'door')!.lastError !== null, 15_000);
    const texts = await Promise.all(['/health', '/api/cameras', '/api/stats', '/metrics', '/'].map(async (p) => (await get(p)).text()));
    for (const t of texts) {
      expect(t).not.toContain('hunter2');
      expect(t).not.toContain('admin:');
    }
    const door = (await cameras()).cameras.find((c) => c.camera === 'door')!;
    expect(door.lastError!.message).toMatch(/door/);
  }, 30_000);

  it('denies everything but /health without the token, WebSocket streams included', async () => {
    for (const p of ['/', '/api/cameras', '/api/stats', '/metrics', '/api/cameras/night/snapshot.jpg', '/hls/night/enhanced/index.m3u8', '/static/viewer.js']) {
      const r = await fetch(`${app.url}${p}`);
      expect(r.status, p).toBe(401);
      errorSchema.parse(await r.json());
    }
    const r = await fetch(`${app.url}/api/cameras/night/model`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"path":"x.onnx"}' });
    expect(r.status).toBe(401);
    for (const p of ['/ws/night/enhanced', '/ws/night/events', '/ws/events']) {
      const status = await new Promise<number>((resolve) => {
        const w = new WebSocket(`${app.url.replace('http', 'ws')}${p}`);
        w.once('unexpected-response', (_q, res) => resolve(res.statusCode ?? 0));
        w.once('open', () => { resolve(101); w.close(); });
        w.once('error', () => {});
      });
      expect(status, p).toBe(401);
    }
  });

  it('switches a camera model while a viewer watches: the connection stays, frames keep coming, the picture changes', async () => {
    const ws = new WebSocket(`${app.url.replace('http', 'ws')}/ws/night/enhanced`, { headers: auth });
    let bytes = 0;
    let closed = false;
    ws.on('message', (m: Buffer) => { bytes += m.length; });
    ws.on('close', () => { closed = true; });
    await until('video bytes', () => bytes > 5000, 10_000);
    expect(await snapshotMean('enhanced')).toBeGreaterThan(2 * (await snapshotMean('raw')));

    const r = await switchTo('night', { path: path.join(models, 'identity.onnx') });
    const body = modelSwitchResponseSchema.parse(await r.json());
    expect(r.status).toBe(200);
    expect(body).toMatchObject({ camera: 'night', provider: 'cpu', previous: { name: 'site.onnx' },
      model: { name: 'identity.onnx', date: '2026-01-02T03:04:05.000Z', dateSource: 'metadata', trained: 'identity: all weights zero' } });

    const atSwitch = bytes;
    const processedAtSwitch = (await cameras()).cameras[0]!.framesProcessed;
    await until('frames after the switch', async () => bytes > atSwitch + 5000 && (await cameras()).cameras[0]!.framesProcessed > processedAtSwitch + 10, 15_000);
    expect(closed).toBe(false);
    expect(ws.readyState).toBe(WebSocket.OPEN);
    // The identity model leaves frames as they are: the enhanced snapshot is now as dark as the raw one.
    const [enh, rawMean] = [await snapshotMean('enhanced'), await snapshotMean('raw')];
    expect(enh).toBeLessThan(1.3 * rawMean);
    expect(enh).toBeGreaterThan(0.7 * rawMean);

    const cams = await cameras();
    expect(cams.cameras.find((c) => c.camera === 'night')!.model.name).toBe('identity.onnx');
    expect(cams.cameras.find((c) => c.camera === 'door')!.model.name).toBe('site.onnx');
    const s = await stats();
    expect(s.enhancers.map((e) => [path.basename(e.model), e.cameras])).toEqual([['site.onnx', ['door']], ['identity.onnx', ['night']]]);
    expect(s.cameras.night!.model).toBe('identity.onnx');
    expect(await (await get('/metrics')).text()).toMatch(/^pie_model_switches_total\{camera="night"\} 1$/m);

    // Back to the shared model: the identity enhancer has no camera left and is closed.
    const back = await switchTo('night', { path: path.join(models, 'site.onnx') });
    expect(back.status).toBe(200);
    expect((await stats()).enhancers.map((e) => path.basename(e.model))).toEqual(['site.onnx']);
    const atBack = bytes;
    await until('frames after switching back', () => bytes > atBack + 5000, 15_000);
    expect(closed).toBe(false);
    ws.close();
  }, 60_000);

  it('refuses bad model switches with a 4xx JSON error and keeps the current model', async () => {
    const cases: Array<[unknown, number, RegExp]> = [
      [{ path: path.join(models, 'garbage.onnx') }, 422, /is not an ONNX model/],
      [{ path: path.join(models, 'blazeface.onnx') }, 422, /is not a DCE-Net model: it has no initializer e_conv1\.weight/],
      [{ path: path.join(models, 'missing.onnx') }, 404, /no model file/],
      [{ path: path.join(elsewhere, 'evil.onnx') }, 403, /outside the model folders/],
      [{ path: `${models}/../${path.basename(elsewhere)}/evil.onnx` }, 403, /outside the model folders/],
      [{ path: path.join(models, 'link.onnx') }, 403, /leads outside the model folders/],
      [{ path: '/etc/passwd' }, 400, /is not a \.onnx file/],
      [{ path: path.join(models, 'site.onnx'), extra: true }, 400, /invalid request body/],
      [{ model: 'site.onnx' }, 400, /invalid request body/],
      // A FIFO would block a reader for ever (and the camera's switch queue behind it); a huge file would be read whole.
      [{ path: path.join(models, 'fifo.onnx') }, 400, /is not a regular file/],
      [{ path: path.join(models, 'huge.onnx') }, 413, /is 1610612736 bytes, over the 67108864-byte model limit/],
    ];
    execFileSync('mkfifo', [path.join(models, 'fifo.onnx')]);
    fs.closeSync(fs.openSync(path.join(models, 'huge.onnx'), 'w'));
    fs.truncateSync(path.join(models, 'huge.onnx'), 1.5 * 1024 ** 3); // sparse: no disk used
    for (const [body, status, message] of cases) {
      const r = await switchTo('night', body);
      const e = errorSchema.parse(await r.json());
      expect(r.status, JSON.stringify(body)).toBe(status);
      expect(e.error, JSON.stringify(body)).toMatch(message);
    }
    expect((await switchTo('nope', { path: path.join(models, 'site.onnx') })).status).toBe(404);
    expect((await cameras()).cameras[0]!.model.name).toBe('site.onnx');
    // The queue is not stuck behind the FIFO: a good switch still goes through.
    expect((await switchTo('night', { path: path.join(models, 'site.onnx') })).status).toBe(200);
    // A model's own errors name it as the client wrote it, never by the server's resolved path.
    const rel = path.relative(process.cwd(), path.join(models, 'garbage.onnx'));
    const r = await switchTo('night', { path: rel });
    expect(r.status).toBe(422);
    expect((await r.json() as { error: string }).error.startsWith(`${rel} is not an ONNX model`)).toBe(true);
  }, 30_000);

  it('sends published detection events to viewers and counts them as detection_fps', async () => {
    const ws = new WebSocket(`${app.url.replace('http', 'ws')}/ws/night/events`, { headers: auth });
    const got: unknown[] = [];
    ws.on('message', (m) => got.push(JSON.parse(String(m))));
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const face = { box: { x: 40, y: 20, width: 30, height: 36 }, score: 0.87, keypoints: [{ x: 50, y: 30 }, { x: 62, y: 30 }] };
    for (let seq = 0; seq < 5; seq++) app.publishEvent('night', { seq, ts: Date.now(), faces: seq % 2 ? [] : [face] });
    await until('five events', () => got.length === 5, 5000);
    expect(got.map((e) => detectionEventSchema.parse(e))).toMatchObject([{ camera: 'night', seq: 0, faces: [face] }, { seq: 1, faces: [] }, { seq: 2 }, { seq: 3 }, { seq: 4 }]);
    expect(() => app.publishEvent('nope', { seq: 0, ts: 0, faces: [] })).toThrow(/no camera "nope"/);
    expect(() => app.publishEvent('night', { camera: 'door', seq: 0, ts: 0, faces: [] })).toThrow(/names camera door/);
    expect(() => app.publishEvent('night', { seq: -1, ts: 0, faces: [] })).toThrow(/invalid detection event: seq/);
    expect((await stats()).cameras.night!.detection_fps).toBe(1); // 5 events over the 5 s window
    expect(await (await get('/metrics')).text()).toMatch(/^pie_detection_events_total\{camera="night"\} 5$/m);
    ws.close();
  });
});

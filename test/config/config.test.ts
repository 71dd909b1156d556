import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG_PATH, interpolate, loadConfig, loadDefaultConfig, parseConfig, redactConfig, type ConfigIssue } from '../../src/config/load.js';
import { cameraDenoise, parseInput, parseScale } from '../../src/config/schema.js';
import { isPieError } from '../../src/errors.js';
import { REPO_ROOT } from '../helpers/shared.js';
import { DEFAULT_SATURATION } from '../../src/enhance/tone.js';
import { problems } from './problems.js';

const ONE_CAMERA = 'cameras:\n  - { name: cam, input: "synthetic:" }\n';


const only = (text: string, env: Record<string, string> = {}): ConfigIssue => {
  const p = problems(text, env);
  expect(p, JSON.stringify(p)).toHaveLength(1);
  return p[0]!;
};

describe('config: defaults', () => {
  it('fills in every default around one camera', () => {
    expect(parseConfig(ONE_CAMERA, { env: {} })).toEqual({
      cameras: [{ name: 'cam', input: { kind: 'synthetic' }, width: 640, height: 360, fps: 10, outputs: { hls: ['enhanced'], websocket: ['enhanced'] } }],
      enhance: { scale: '1/4', downscale: 4, strength: 1, exposure: 'auto', color: 'value', noiseAwareGain: true, saturation: DEFAULT_SATURATION, mono: 'auto', provider: 'cpu', batch: { maxSize: 4, maxWaitMs: 40, queue: 2 }, regionCache: { enabled: false, alpha: 0.2, mix: 0, refreshEvery: 150 }, denoise: 'temporal', denoiseStrength: 2, denoiseGlobalMotion: 'shift', curveApply: 'grid' },
      detect: { enabled: false, fps: 5, model: 'full-range', tiling: true, upscale: 1, threshold: 0.5, pose: 'frontal', minFace: 12, on: 'raw', drawBoxes: false, confirm: { frames: 3, hits: 2, fixtureAfter: 50, staticAfter: 10 } },
      workers: { queue: 1, timeoutMs: 30_000, inProcess: false },
      server: { host: '127.0.0.1', port: 8080 },
    });
  });

  it('takes enhance.denoise off, spatial or temporal and a strength, and says what fits', () => {
    expect(parseConfig(`${ONE_CAMERA}enhance: { denoise: off, denoiseStrength: 0 }\n`, { env: {} }).enhance).toMatchObject({ denoise: 'off', denoiseStrength: 0 });
    expect(parseConfig(`${ONE_CAMERA}enhance: { denoiseGlobalMotion: reset }\n`, { env: {} }).enhance.denoiseGlobalMotion).toBe('reset');
    expect(() => parseConfig(`${ONE_CAMERA}enhance: { denoiseGlobalMotion: follow }\n`, { env: {} })).toThrow(/shift, reset, off/);
    expect(() => parseConfig(`${ONE_CAMERA}enhance: { denoise: strong }\n`, { env: {} })).toThrow(/off, spatial or temporal/);
  });

  it('takes enhance.curveApply, and refuses the grid where it cannot run, saying the fix', () => {
    expect(parseConfig(`${ONE_CAMERA}enhance: { curveApply: grid, scale: 1/8 }\n`, { env: {} }).enhance.curveApply).toBe('grid');
    expect(() => parseConfig(`${ONE_CAMERA}enhance: { curveApply: table }\n`, { env: {} })).toThrow(/auto, exact, fitted, grid/);
    // auto (the default): the grid on the CPU wherever it can run, the exact form everywhere else.
    const auto = (yaml: string): string => parseConfig(`${ONE_CAMERA}enhance: { ${yaml} }\n`, { env: {} }).enhance.curveApply;
    expect(auto('scale: 1/8')).toBe('grid');
    expect(auto('scale: 1/8, curveApply: exact')).toBe('exact');
    expect(auto('scale: 1/8, color: rgb')).toBe('exact');
    expect(auto('scale: 1')).toBe('exact');
    expect(auto('scale: 1/8, regionCache: { enabled: true }')).toBe('exact');
    expect(auto('scale: 1/8, provider: webgpu')).toBe('exact');
    expect(auto('scale: 1/8, provider: auto')).toBe('exact');
    expect(only(`${ONE_CAMERA}enhance: { curveApply: grid, color: rgb }\n`).message).toMatch(/grid needs color: value — fix:/);
    expect(only(`${ONE_CAMERA}enhance: { curveApply: grid, scale: 1 }\n`).message).toMatch(/1\/2 or coarser — fix:/);
    expect(only(`${ONE_CAMERA}enhance: { curveApply: grid, regionCache: { enabled: true } }\n`).message).toMatch(/region cache no curve maps — fix:/);
  });

  it('lets a camera set its own denoise and denoiseStrength, each falling back to enhance.* alone', () => {
    const c = parseConfig(`cameras:
  - { name: a, input: "synthetic:" }
  - { name: b, input: "synthetic:", denoise: off }
  - { name: c, input: "synthetic:", denoise: spatial, denoiseStrength: 5 }
  - { name: d, input: "synthetic:", denoiseStrength: 0.5 }
enhance: { denoise: temporal, denoiseStrength: 3 }
`, { env: {} });
    // Only what the camera writes is kept on it (a cluster's cameras are validated apart from the node's enhance section).
    expect(c.cameras.map((cam) => [cam.denoise, cam.denoiseStrength])).toEqual([[undefined, undefined], ['off', undefined], ['spatial', 5], [undefined, 0.5]]);
    expect(c.cameras.map((cam) => cameraDenoise(c.enhance, cam))).toEqual([
      { mode: 'temporal', strength: 3 }, { mode: 'off', strength: null }, { mode: 'spatial', strength: 5 }, { mode: 'temporal', strength: 0.5 },
    ]);
    // enhance.denoise: off turns off only the cameras that do not ask for their own.
    const off = parseConfig('cameras:\n  - { name: a, input: "synthetic:" }\n  - { name: b, input: "synthetic:", denoise: temporal }\nenhance: { denoise: off }\n', { env: {} });
    expect(off.cameras.map((cam) => cameraDenoise(off.enhance, cam))).toEqual([{ mode: 'off', strength: null }, { mode: 'temporal', strength: 2 }]);
  });

  it('refuses a camera\'s wrong denoise keys, and a strength nothing would use, saying the fix', () => {
    expect(problems('cameras:\n  - { name: a, input: "synthetic:", denoise: strong, denoiseStrength: 20 }\n')).toEqual([
      { path: 'cameras[0].denoise', line: 2, message: expect.stringMatching(/^expected off, spatial or temporal, got "strong" — fix: denoise: temporal .*spatial .* or off; leave it out to follow enhance\.denoise$/) },
      { path: 'cameras[0].denoiseStrength', line: 2, message: expect.stringMatching(/^expected a strength from 0 to 16, got 20 — fix: e\.g\. denoiseStrength: 2 .*leave it out to follow enhance\.denoiseStrength\)$/) },
    ]);
    expect(only('cameras:\n  - { name: a, input: "synthetic:", denoise: off, denoiseStrength: 4 }\n')).toEqual({
      path: 'cameras[0].denoiseStrength', line: 2,
      message: 'is set but this camera\'s denoising is off (its denoise: off) — fix: remove denoiseStrength from this camera, or give it denoise: temporal or denoise: spatial',
    });
    expect(only('cameras:\n  - { name: a, input: "synthetic:", denoiseStrength: 4 }\nenhance: { denoise: off }\n').message).toMatch(/^is set but this camera's denoising is off \(enhance\.denoise: off\) — fix: /);
    expect(only('cameras:\n  - { name: a, input: "synthetic:", denoize: off }\n').message).toMatch(/did you mean denoise\?/);
  });

  it('reads a camera\'s face mask in fractions of the frame, and refuses one that leaves the frame, saying the fix', () => {
    const c = parseConfig('cameras:\n  - { name: a, input: "synthetic:", faceMask: [{ x: 0, y: 0.04, width: 0.33, height: 0.05 }] }\n  - { name: b, input: "synthetic:" }\n', { env: {} });
    expect(c.cameras.map((cam) => cam.faceMask)).toEqual([[{ x: 0, y: 0.04, width: 0.33, height: 0.05 }], undefined]);
    expect(only('cameras:\n  - { name: a, input: "synthetic:", faceMask: [{ x: 0.8, y: 0, width: 0.3, height: 0.1 }] }\n')).toMatchObject({
      path: 'cameras[0].faceMask[0]', message: expect.stringMatching(/^reaches past the frame \(x \+ width 1\.1, y \+ height 0\.1\) — fix: keep x \+ width and y \+ height at most 1, e\.g\. faceMask: /),
    });
    expect(only('cameras:\n  - { name: a, input: "synthetic:", faceMask: [{ x: 0, y: 0, width: 0, height: 0.1 }] }\n')).toMatchObject({ path: 'cameras[0].faceMask[0].width' });
    expect(only('cameras:\n  - { name: a, input: "synthetic:", faceMask: { x: 0 } }\n').message).toMatch(/expected a list of rectangles/);
  });

  it('reads rtsp (tcp by default, udp on request), file and synthetic inputs', () => {
    const c = parseConfig(`cameras:
  - { name: a, input: "rtsp://10.0.0.5/s" }
  - { name: b, input: "rtsps://cam.local:322/live", transport: udp }
  - { name: c, input: clips/night.mp4 }
  - { name: d, input: "synthetic:exposure=0.05, noise=10" }
  - name: e
    input: synthetic
`, { env: {} });
    expect(c.cameras.map((cam) => cam.input)).toEqual([
      { kind: 'rtsp', url: 'rtsp://10.0.0.5/s', transport: 'tcp' },
      { kind: 'rtsp', url: 'rtsps://cam.local:322/live', transport: 'udp' },
      { kind: 'file', path: 'clips/night.mp4' },
      { kind: 'synthetic', exposure: 0.05, noise: 10 },
      { kind: 'synthetic' },
    ]);
  });

  it('gives each camera the shared model and outputs unless it names its own, key by key', () => {
    const c = parseConfig(`cameras:
  - { name: a, input: "synthetic:" }
  - { name: b, input: "synthetic:", model: b.onnx, outputs: { websocket: [raw] } }
enhance: { model: shared.onnx }
outputs: { hls: [raw, enhanced], websocket: enhanced }
`, { env: {} });
    expect(c.cameras.map((cam) => [cam.model, cam.outputs])).toEqual([
      ['shared.onnx', { hls: ['raw', 'enhanced'], websocket: ['enhanced'] }],
      ['b.onnx', { hls: ['raw', 'enhanced'], websocket: ['raw'] }],
    ]);
    expect(c.enhance.model).toBe('shared.onnx');
  });

  it('accepts curve scales as 1/k, 1 or the equivalent number', () => {
    for (const [v, k] of [['1', 1], ['1/2', 2], [' 1 / 8 ', 8], [1, 1], [0.25, 4], ['0.125', 8], ['1/64', 64]] as const) {
      expect(parseScale(v)).toEqual({ ok: true, value: k });
    }
    expect(parseConfig(`${ONE_CAMERA}enhance: { scale: 1/8 }\n`, { env: {} }).enhance).toMatchObject({ scale: '1/8', downscale: 8 });
  });

  it('treats a key written with nothing under it as absent', () => {
    expect(parseConfig(`${ONE_CAMERA}detect:\nserver:\n  token:\n`, { env: {} }).detect).toMatchObject({ enabled: false, fps: 5 });
  });

  it('reads the detection settings and an MQTT broker, filling in their defaults', () => {
    const c = parseConfig(`${ONE_CAMERA}detect: { enabled: true, fps: 2, model: front, tiling: false, threshold: 0.6, pose: any, on: raw, drawBoxes: true }\nmqtt: { url: "mqtt://127.0.0.1:1883" }\n`, { env: {} });
    expect(c.detect).toEqual({ enabled: true, fps: 2, model: 'front', tiling: false, upscale: 1, threshold: 0.6, pose: 'any', minFace: 12, on: 'raw', drawBoxes: true, confirm: { frames: 3, hits: 2, fixtureAfter: 50, staticAfter: 10 } });
    expect(parseConfig(`${ONE_CAMERA}detect: { confirm: { frames: 0 } }\n`, { env: {} }).detect.confirm).toEqual({ frames: 0, hits: 2, fixtureAfter: 50, staticAfter: 10 });
    expect(parseConfig(`${ONE_CAMERA}detect: { model: full-range, upscale: 2 }\n`, { env: {} }).detect).toMatchObject({ model: 'full-range', tiling: true, upscale: 2 });
    expect(c.mqtt).toEqual({ url: 'mqtt://127.0.0.1:1883', topicPrefix: 'pie-stream', qos: 0, maxQueue: 100 });
    expect(parseConfig(`${ONE_CAMERA}mqtt: { url: "mqtts://b.local:8883", topicPrefix: site/a, qos: 1, maxQueue: 5 }\n`, { env: {} }).mqtt)
      .toEqual({ url: 'mqtts://b.local:8883', topicPrefix: 'site/a', qos: 1, maxQueue: 5 });
    expect(parseConfig(ONE_CAMERA, { env: {} })).not.toHaveProperty('mqtt');
  });

  it('accepts a host other than loopback when a token is set', () => {
    expect(parseConfig(`${ONE_CAMERA}server: { host: 0.0.0.0, token: t0k3n }\n`, { env: {} }).server).toEqual({ host: '0.0.0.0', port: 8080, token: 't0k3n' });
    for (const host of ['localhost', '127.0.0.1', '127.1.2.3', '::1']) expect(parseConfig(`${ONE_CAMERA}server: { host: "${host}" }\n`, { env: {} }).server.host).toBe(host);
  });
});

describe('config: each problem names its key, its line and the fix', () => {
  it('refuses an unknown key and suggests the one meant', () => {
    const i = only(`${ONE_CAMERA}server:\n  hots: 0.0.0.0\n`);
    expect(i).toMatchObject({ path: 'server.hots', line: 4 });
    expect(i.message).toBe('unknown key — fix: did you mean host? (keys here: host, port, token)');
    expect(only(`${ONE_CAMERA}enhance: { batch: { max_size: 2 } }\n`)).toMatchObject({ path: 'enhance.batch.max_size', message: expect.stringContaining('did you mean maxSize?') });
    expect(only('cameras:\n  - { name: a, input: "synthetic:", colour: red }\n')).toMatchObject({
      path: 'cameras[0].colour', line: 2, message: expect.stringContaining('remove it or correct its spelling (keys here: name, input, transport, width, height, fps, model, denoise, denoiseStrength, outputs, faceMask)'),
    });
    expect(only(`${ONE_CAMERA}logging: verbose\n`)).toMatchObject({ path: 'logging', line: 3 });
  });

  it('refuses a wrong type, saying what it got and what to write', () => {
    expect(only('cameras:\n  - name: a\n    input: "synthetic:"\n    fps: ten\n')).toEqual({
      path: 'cameras[0].fps', line: 4,
      message: 'expected frames per second from 0.1 to 120, got "ten" — fix: e.g. fps: 10 (frames are processed at this rate; more are dropped and counted)',
    });
    expect(only(`${ONE_CAMERA}server: { port: 70000 }\n`)).toMatchObject({ path: 'server.port', message: 'expected a TCP port from 0 to 65535, got 70000 — fix: e.g. port: 8080 (0 = any free port)' });
    expect(only(`${ONE_CAMERA}enhance: { provider: gpu }\n`)).toMatchObject({ path: 'enhance.provider', message: expect.stringMatching(/^expected one of auto, cpu, webgpu, cuda, got "gpu" — fix: /) });
    expect(only(`${ONE_CAMERA}detect: { enabled: "yes" }\n`)).toMatchObject({ path: 'detect.enabled', message: expect.stringMatching(/^expected true or false, got "yes"/) });
    expect(only(`${ONE_CAMERA}outputs: { hls: [enhanced, hdr] }\n`)).toMatchObject({ path: 'outputs.hls[1]' });
    expect(only('cameras:\n  - { name: a, input: "synthetic:", width: 641 }\n')).toMatchObject({ path: 'cameras[0].width', message: expect.stringContaining('641 is odd — fix: use an even width') });
  });

  it('reports a missing key at the mapping that lacks it', () => {
    expect(only('cameras:\n  - name: a\n')).toMatchObject({ path: 'cameras[0].input', line: 2, message: expect.stringMatching(/^missing — fix: e\.g\. input: rtsp:\/\//) });
    expect(only('enhance: { scale: 1/4 }\n')).toMatchObject({ path: 'cameras', message: expect.stringMatching(/^missing — fix: /) });
  });

  it('refuses duplicate camera names, naming the first one', () => {
    expect(only('cameras:\n  - { name: gate, input: "synthetic:" }\n  - { name: yard, input: "synthetic:" }\n  - { name: gate, input: x.mp4 }\n')).toEqual({
      path: 'cameras[2].name', line: 4, message: '"gate" is already the name of cameras[0] — fix: give every camera its own name',
    });
  });

  it('wants at least one camera', () => {
    expect(only('cameras: []\n')).toMatchObject({ path: 'cameras', message: expect.stringMatching(/^no cameras — fix: add at least one/) });
  });

  it('refuses a bad camera name or input', () => {
    expect(only('cameras:\n  - { name: Front Door, input: "synthetic:" }\n').message).toMatch(/^"Front Door" is not a valid camera name — fix: use 1–64 lowercase letters/);
    expect(only('cameras:\n  - { name: a, input: "http://10.0.0.5/video" }\n')).toEqual({
      path: 'cameras[0].input', line: 2,
      message: 'expected rtsp://…, a file path or synthetic:…, got a http:// URL — fix: e.g. input: rtsp://user:${CAM_PASSWORD}@192.168.1.20:554/stream1, input: clips/night.mp4, input: synthetic or input: synthetic:exposure=0.1',
    });
    // With the camera's other problems, not after them.
    expect(problems('cameras:\n  - { name: a, input: "ftp://x/y", fps: 0 }\n').map((i) => i.path)).toEqual(['cameras[0].input', 'cameras[0].fps']);
    expect(parseInput('rstp://cam/s')).toMatchObject({ ok: false, message: expect.stringContaining('(did you mean rtsp://?)') });
    expect(parseInput('synthetic:brightness=2')).toMatchObject({ ok: false, message: expect.stringContaining('"brightness=2" is not exposure=… or noise=…') });
    expect(parseInput('synthetic:exposure=3')).toMatchObject({ ok: false, message: expect.stringContaining('exposure must be a number from 0.001 to 1') });
    expect(parseInput('rtsp:///nohost')).toMatchObject({ ok: false, message: expect.stringContaining('not a valid rtsp:// URL') });
  });

  it('refuses transport on an input that is not rtsp', () => {
    expect(only('cameras:\n  - { name: a, input: a.mp4, transport: udp }\n')).toEqual({
      path: 'cameras[0].transport', line: 2, message: 'applies to rtsp:// inputs only, and this input is a file — fix: remove transport from this camera',
    });
  });

  it('refuses a bad curve scale, guessing the meant one', () => {
    expect(only(`${ONE_CAMERA}enhance:\n  scale: 4\n`)).toEqual({
      path: 'enhance.scale', line: 4,
      message: '4 is not 1/k for a whole k from 1 to 64 — fix: did you mean 1/4? scale: 1, 1/2, 1/4 or 1/8 (curve maps estimated at that fraction of the frame size; 1/8 is fastest)',
    });
    for (const bad of ['1/3.5', '1/0', '1/128', 'half', 0.3, 2.5, true]) expect(parseScale(bad)).toMatchObject({ ok: false, message: expect.stringMatching(/is not 1\/k for a whole k from 1 to 64 — fix: /) });
  });

  it('refuses bad detection and MQTT settings, saying what to write', () => {
    expect(problems(`${ONE_CAMERA}detect: { model: side, tiling: 1, upscale: 3, threshold: 1, pose: profile, minFace: -4, on: both, drawBoxes: yes }\n`)).toEqual([
      { path: 'detect.model', line: 3, message: expect.stringMatching(/^expected back, front or full-range, got "side" — fix: model: full-range .*model: back/) },
      { path: 'detect.tiling', line: 3, message: expect.stringMatching(/^expected true or false, got 1 — fix: tiling: true/) },
      { path: 'detect.upscale', line: 3, message: expect.stringMatching(/^expected a tile upscale factor from 1 to 2, got 3 — fix: upscale: 1 .*upscale: 2/) },
      { path: 'detect.threshold', line: 3, message: expect.stringMatching(/^expected a face score from 0\.01 to 0\.99, got 1 — fix: e\.g\. threshold: 0\.5/) },
      { path: 'detect.pose', line: 3, message: expect.stringMatching(/^expected frontal or any, got "profile" — fix: pose: frontal .*pose: any/) },
      { path: 'detect.minFace', line: 3, message: expect.stringMatching(/^expected a face width in pixels from 0 to 4096, got -4 — fix: minFace: 12 .*minFace: 0/) },
      { path: 'detect.on', line: 3, message: expect.stringMatching(/^expected raw, enhanced or fused, got "both" — fix: on: raw/) },
      { path: 'detect.drawBoxes', line: 3, message: expect.stringMatching(/^expected true or false, got "yes" — fix: drawBoxes: true/) },
    ]);
    expect(only(`${ONE_CAMERA}detect: { treshold: 0.4 }\n`).message).toMatch(/^unknown key — fix: did you mean threshold\? \(keys here: enabled, fps, model, tiling, upscale, threshold, pose, minFace, on, drawBoxes, confirm\)/);
    expect(only(`${ONE_CAMERA}detect: { confirm: { frames: 2, hits: 3 } }\n`)).toMatchObject({ path: 'detect.confirm.hits', message: expect.stringMatching(/^3 is more than frames \(2\): no face could ever be confirmed — fix: use hits from 1 to 2/) });
    expect(only(`${ONE_CAMERA}detect: { confirm: { frames: -1 } }\n`)).toMatchObject({ path: 'detect.confirm.frames', message: expect.stringMatching(/frames: 3 \(the window/) });
    // staticAfter: seconds, 0 = off, at least 10 detections (a pause is not background).
    expect(parseConfig(`${ONE_CAMERA}detect: { confirm: { staticAfter: 0 } }\n`, { env: {} }).detect.confirm.staticAfter).toBe(0);
    expect(parseConfig(`${ONE_CAMERA}detect: { fps: 2, confirm: { staticAfter: 5 } }\n`, { env: {} }).detect.confirm.staticAfter).toBe(5);
    expect(only(`${ONE_CAMERA}detect: { fps: 5, confirm: { staticAfter: 1.5 } }\n`)).toMatchObject({ path: 'detect.confirm.staticAfter', message: expect.stringMatching(/^1.5 s is under 10 detections at fps 5: .* — fix: use staticAfter: 0 \(off\) or at least 2, e.g. staticAfter: 10/) });
    expect(only(`${ONE_CAMERA}detect: { confirm: { staticAfter: -1 } }\n`)).toMatchObject({ path: 'detect.confirm.staticAfter', message: expect.stringMatching(/seconds from 0 to 3600.*fix: e.g. staticAfter: 10/) });
    expect(problems(`${ONE_CAMERA}mqtt: { url: "http://b:1883", topicPrefix: "a/#", qos: 2, maxQueue: 0 }\n`).map((i) => [i.path, i.message.split(' — fix: ')[0]])).toEqual([
      ['mqtt.url', 'expected an mqtt://, mqtts://, ws:// or wss:// URL, got a http:// URL'],
      ['mqtt.topicPrefix', '"a/#" cannot start an MQTT topic'],
      ['mqtt.qos', 'expected 0 or 1, got 2'],
      ['mqtt.maxQueue', 'expected events from 1 to 100000, got 0'],
    ]);
    expect(only(`${ONE_CAMERA}mqtt: { url: "broker:1883" }\n`).message).toMatch(/got no URL scheme — fix: e\.g\. url: mqtt:\/\/127\.0\.0\.1:1883/);
    expect(only(`${ONE_CAMERA}mqtt: { url: "mqtt://" }\n`).message).toMatch(/^not a valid mqtt:\/\/ URL \(no host/);
    expect(only(`${ONE_CAMERA}mqtt: { topicPrefix: x }\n`)).toMatchObject({ path: 'mqtt.url', message: expect.stringMatching(/^missing — fix: /) });
    expect(only(`${ONE_CAMERA}mqtt: { url: "mqtt://b", topicPrefix: /x/ }\n`).message).toMatch(/starts or ends with \//);
  });

  it('requires a token when the server listens beyond this machine', () => {
    expect(only(`${ONE_CAMERA}server:\n  host: 0.0.0.0\n`)).toEqual({
      path: 'server.host', line: 4,
      message: '"0.0.0.0" lets other machines connect, so a token is required — fix: set server.token (e.g. token: ${PIE_TOKEN}), or use host: 127.0.0.1 for this machine only',
    });
  });

  it('reports every problem at once, in line order, in one PieError of kind config', () => {
    let err: unknown;
    try {
      parseConfig('cameras:\n  - { name: a, input: "synthetic:", fps: 0 }\n  - { name: a, input: "synthetic:" }\nserver: { prot: 1 }\n', { source: 'site.yaml', env: {} });
    } catch (e) { err = e; }
    expect(isPieError(err, 'config')).toBe(true);
    const msg = (err as Error).message;
    expect(msg.split('\n')[0]).toBe('invalid config site.yaml (2 problems):');
    expect(msg).toContain('  cameras[0].fps (line 2): expected frames per second from 0.1 to 120, got 0 — fix: ');
    expect(msg).toContain('  server.prot (line 4): unknown key — fix: did you mean port?');
    // The duplicate name is a cross-field check: it runs once every field is valid.
    expect(problems('cameras:\n  - { name: a, input: "synthetic:" }\n  - { name: a, input: "synthetic:" }\n').map((i) => i.path)).toEqual(['cameras[1].name']);
  });

  it('reports YAML syntax errors and keys written twice with their line', () => {
    expect(only('cameras:\n  - name: a\n    input: "synthetic:\n')).toMatchObject({ path: '', message: expect.stringMatching(/^YAML syntax error: .* — fix: correct the YAML/) });
    expect(only(`${ONE_CAMERA}server:\n  port: 1\n  port: 2\n`)).toMatchObject({ line: 5, message: 'key "port" is written twice in the same mapping — fix: keep one of them' });
    expect(only(`${ONE_CAMERA}server: { host: 127.0.0.1, "host": ::1 }\n`).message).toMatch(/^key "host" is written twice/);
  });

  it('reports an odd width beside a value error elsewhere, not in a later stage', () => {
    const all = problems('cameras:\n  - { name: a, input: "synthetic:", width: 641, fps: 0 }\nenhance: { scale: 1/3.5 }\n');
    expect(all.map((i) => i.path).sort()).toEqual(['cameras[0].fps', 'cameras[0].width', 'enhance.scale']);
    expect(all.find((i) => i.path === 'cameras[0].width')!.message).toMatch(/^641 is odd — fix: use an even width/);
  });

  it('takes the same strength range as the CLI (0 to 4)', () => {
    expect(parseConfig(`${ONE_CAMERA}enhance: { strength: 4 }\n`).enhance.strength).toBe(4);
    expect(only(`${ONE_CAMERA}enhance: { strength: 4.5 }\n`).message).toMatch(/from 0 to 4/);
  });

  it('refuses a YAML alias bomb naming the file and the line of the first alias', () => {
    let bomb = `${ONE_CAMERA}x0: &x0 [a, a, a, a, a, a, a, a, a]\n`;
    for (let i = 1; i < 12; i++) bomb += `x${i}: &x${i} [${Array(9).fill(`*x${i - 1}`).join(', ')}]\n`;
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pie-bomb-')), 'bomb.yaml');
    fs.writeFileSync(file, bomb);
    let msg = '';
    try { loadConfig(file); } catch (e) { msg = (e as Error).message; }
    fs.rmSync(path.dirname(file), { recursive: true });
    const aliasLine = bomb.split('\n').findIndex((l) => l.includes('*x0')) + 1;
    expect(msg).toContain(`invalid config ${file}`);
    expect(msg).toMatch(new RegExp(`line ${aliasLine}: YAML aliases expand too far .* — fix: write the values out`));
    expect(only('- just\n- a list\n').message).toMatch(/^expected a mapping of cameras, enhance/);
  });
});

describe('config: environment variables', () => {
  const url = 'cameras:\n  - name: a\n    input: rtsp://admin:${CAM1_PASSWORD}@10.0.0.5:554/s\n';

  it('resolves ${VAR} at load, percent-encoding it inside the URL\'s user:password', () => {
    const c = parseConfig(url, { env: { CAM1_PASSWORD: 'p@ss:w/rd %' } });
    expect(c.cameras[0]!.input).toEqual({ kind: 'rtsp', url: 'rtsp://admin:p%40ss%3Aw%2Frd%20%25@10.0.0.5:554/s', transport: 'tcp' });
    expect(interpolate('${HOST}/a/${P}', { HOST: 'h', P: 'x y' })).toBe('h/a/x y'); // elsewhere: as is
    expect(interpolate('rtsp://${U}:${P}@${H}/${S}', { U: 'u@', P: 'p', H: 'cam', S: 'a b' })).toBe('rtsp://u%40:p@cam/a b');
    expect(interpolate('$${LITERAL} and $x', {})).toBe('${LITERAL} and $x');
    const all = parseConfig('cameras:\n  - { name: a, input: "${CAM_URL}", model: "${MODELS}/a.onnx" }\nserver: { host: 0.0.0.0, token: "${PIE_TOKEN}" }\n',
      { env: { CAM_URL: 'rtsp://u:p@cam/s', MODELS: '/opt/m', PIE_TOKEN: 'secret-token' } });
    expect([all.cameras[0]!.input, all.cameras[0]!.model, all.server.token]).toEqual([{ kind: 'rtsp', url: 'rtsp://u:p@cam/s', transport: 'tcp' }, '/opt/m/a.onnx', 'secret-token']);
    // The broker's URL too, the password percent-encoded inside user:password.
    expect(parseConfig(`${ONE_CAMERA}mqtt: { url: "mqtt://pie:\${MQTT_PASSWORD}@broker:1883" }\n`, { env: { MQTT_PASSWORD: 'p@ss:w/rd' } }).mqtt!.url)
      .toBe('mqtt://pie:p%40ss%3Aw%2Frd@broker:1883');
  });

  it('refuses a variable that is not set, naming it and never a value', () => {
    expect(only(url, { OTHER: 'x' })).toEqual({
      path: 'cameras[0].input', line: 3, message: 'environment variable CAM1_PASSWORD is not set — fix: export CAM1_PASSWORD=… before starting pie-stream',
    });
    expect(only(`${ONE_CAMERA}server: { token: "\${A}\${B}" }\n`).message).toBe('environment variables A, B are not set — fix: export A=…; export B=… before starting pie-stream');
    expect(interpolate('${}', {})).toEqual({ message: expect.stringContaining('is not a variable name') });
    expect(interpolate('x${OPEN', {})).toEqual({ message: expect.stringContaining('without its closing }') });
  });

  it('never puts a secret in a message', () => {
    const secret = 'hunter2-SECRET';
    const texts: string[] = [];
    const collect = (text: string, env: Record<string, string>): void => {
      try { parseConfig(text, { env }); } catch (e) { texts.push((e as Error).message); }
    };
    collect('cameras:\n  - { name: a, input: "${U}", transport: bogus }\n', { U: `http://admin:${secret}@cam/s` });
    collect('cameras:\n  - { name: a, input: "${U}" }\n', { U: `ftp://admin:${secret}@cam/s` });
    collect(`${ONE_CAMERA}server: { host: "0.0.0.0", token: 12 }\n`, {});
    collect('cameras:\n  - { name: a, input: "rtsp://admin:hunter2-SECRET@cam/s", fps: x }\n  - { name: "rtsp://u:hunter2-SECRET@x/", input: "synthetic:" }\n', {});
    collect('cameras:\n  - name: a\n    input: "rtsp://admin:hunter2-SECRET@cam/s\n', {});
    collect(`${ONE_CAMERA}mqtt: { url: "\${M}" }\n`, { M: `http://pie:${secret}@broker/` });
    collect(`${ONE_CAMERA}mqtt: { url: "mqtt://pie:${secret}@" }\n`, {});
    collect(`${ONE_CAMERA}mqtt: { url: 12, qos: "\${M}" }\n`, { M: secret });
    expect(texts).toHaveLength(8);
    for (const t of texts) expect(t).not.toContain(secret);
  });
});

describe('config: redaction', () => {
  it('masks URL credentials and the token for display, leaving the config itself intact', () => {
    const c = parseConfig('cameras:\n  - { name: a, input: "rtsp://admin:${P}@cam/s" }\n  - { name: b, input: x.mp4 }\nmqtt: { url: "mqtt://pie:${MP}@broker:1883" }\nserver: { host: 0.0.0.0, token: "${T}" }\n',
      { env: { P: 'hunter2', T: 'tok-123', MP: 'mq-secret' } });
    const shown = redactConfig(c);
    expect(JSON.stringify(shown)).not.toMatch(/hunter2|tok-123|mq-secret/);
    expect(shown.mqtt!.url).toBe('mqtt://***:***@broker:1883');
    expect(c.mqtt!.url).toBe('mqtt://pie:mq-secret@broker:1883');
    expect(shown.cameras[0]!.input).toEqual({ kind: 'rtsp', url: 'rtsp://***:***@cam/s', transport: 'tcp' });
    expect(shown.cameras[1]).toBe(c.cameras[1]);
    expect(shown.server.token).toBe('***');
    expect(c.cameras[0]!.input).toMatchObject({ url: 'rtsp://admin:hunter2@cam/s' });
    expect(c.server.token).toBe('tok-123');
  });
});

describe('config: files', () => {
  it('loads the embedded default: one synthetic dark camera, 640×360 at 10 fps, scale 1/8 on cpu, raw and enhanced out', () => {
    const c = loadDefaultConfig({});
    expect(DEFAULT_CONFIG_PATH).toBe(path.join(REPO_ROOT, 'config', 'default.yaml'));
    expect(c.cameras).toHaveLength(1);
    expect(c.cameras[0]).toMatchObject({ input: { kind: 'synthetic' }, width: 640, height: 360, fps: 10, outputs: { hls: ['raw', 'enhanced'], websocket: ['raw', 'enhanced'] } });
    expect(c.enhance).toMatchObject({ scale: '1/8', downscale: 8, provider: 'cpu' });
    expect(c.server).toEqual({ host: '127.0.0.1', port: 8080 });
  });

  it('loads the example with its variables set: two rtsp cameras and a file, paths relative to the file', () => {
    const vars = { FRONT_DOOR_PASSWORD: 'a', PARKING_PASSWORD: 'b', PIE_TOKEN: 'c', MQTT_PASSWORD: 'd' };
    // In place, its clip is missing: a file camera must name a file that exists.
    expect(() => loadConfig(path.join(REPO_ROOT, 'config', 'example.yaml'), vars))
      .toThrow(/cameras\[2\]\.input \(line 42\): .*clips\/corridor-night\.mp4 does not exist — fix: give the path of a video file/);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pie-example-'));
    const file = path.join(dir, 'example.yaml');
    fs.copyFileSync(path.join(REPO_ROOT, 'config', 'example.yaml'), file);
    fs.mkdirSync(path.join(dir, 'clips'));
    fs.writeFileSync(path.join(dir, 'clips', 'corridor-night.mp4'), '');
    const c = loadConfig(file, vars);
    expect(c.cameras.map((cam) => cam.input.kind)).toEqual(['rtsp', 'rtsp', 'file']);
    expect(c.detect).toEqual({ enabled: false, fps: 5, model: 'full-range', tiling: true, upscale: 1, threshold: 0.5, pose: 'frontal', minFace: 12, on: 'raw', drawBoxes: false, confirm: { frames: 3, hits: 2, fixtureAfter: 50, staticAfter: 10 } });
    expect(c.mqtt).toEqual({ url: 'mqtt://pie:d@192.168.1.5:1883', topicPrefix: 'pie-stream', qos: 0, maxQueue: 100 });
    expect(c.cameras[2]!.input).toEqual({ kind: 'file', path: path.join(dir, 'clips', 'corridor-night.mp4') });
    expect(c.cameras[1]!.model).toBe(path.join(dir, 'models', 'parking-night.onnx'));
    expect(c.cameras.map((cam) => cameraDenoise(c.enhance, cam))).toEqual([{ mode: 'temporal', strength: 2 }, { mode: 'spatial', strength: 4 }, { mode: 'temporal', strength: 2 }]);
    // Without them it names each one.
    expect(() => loadConfig(file, {})).toThrow(/FRONT_DOOR_PASSWORD[\s\S]*PARKING_PASSWORD[\s\S]*MQTT_PASSWORD[\s\S]*PIE_TOKEN/);
    fs.rmSync(dir, { recursive: true });
  });

  it('says so when the file is missing', () => {
    const missing = path.join(os.tmpdir(), `pie-no-such-${process.pid}.yaml`);
    expect(() => loadConfig(missing)).toThrow(`config file ${missing} not found`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pie-config-'));
    try {
      expect(() => loadConfig(dir)).toThrow('is a folder');
    } finally {
      fs.rmSync(dir, { recursive: true });
    }
  });
});

// The live pipeline end to end with real parts: Debian's GStreamer RTSP server as the camera,
// pie-stream's ffmpeg ingest, ONNX Runtime, the HLS and JSMpeg encoders, its HTTP server, a real
// WebSocket client, and ffmpeg decoding what the client received.
import fs from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { PieApp } from '../src/app.js';
import { encoderSinks } from '../src/cli/run.js';
import { parseConfig } from '../src/config/load.js';
import { FfmpegProcess, runTool } from '../src/ingest/ffmpeg-process.js';
import { RtspServer, rtspServerMissing, stopAllRtspServers } from './helpers/rtsp-server.js';

const W = 160, H = 96;

/** Collects a WebSocket stream's binary messages for `ms`. */
function collect(url: string, ms: number): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const got: Buffer[] = [];
    ws.on('message', (m: Buffer) => got.push(Buffer.from(m)));
    ws.once('error', reject);
    setTimeout(() => { ws.close(); resolve(got); }, ms);
  });
}

/** Decodes an MPEG-TS byte stream with ffmpeg (stdin) into RGB frames and returns their mean brightness. */
async function decodedMean(ts: Buffer): Promise<{ frames: number; mean: number }> {
  const p = await FfmpegProcess.start(['-hide_banner', '-loglevel', 'error', '-f', 'mpegts', '-i', 'pipe:0', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { stdin: true });
  const chunks: Buffer[] = [];
  p.stdout.on('data', (c: Buffer) => chunks.push(c));
  p.stdin!.end(ts);
  await p.exited;
  const raw = Buffer.concat(chunks);
  const frameBytes = W * H * 3;
  const frames = Math.floor(raw.length / frameBytes);
  let sum = 0;
  for (let i = 0; i < frames * frameBytes; i++) sum += raw[i]!;
  return { frames, mean: sum / Math.max(1, frames * frameBytes) / 255 };
}

const liveProcesses = (): number[] => fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)).filter((d) => {
  try {
    const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
    return stat.includes('(ffmpeg)') && Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === process.pid;
  } catch { return false; }
}).map(Number);

const skip = rtspServerMissing();
let app: PieApp | undefined;
afterAll(async () => { await app?.close(); await stopAllRtspServers(); });

describe.skipIf(skip)('live: RTSP camera → pie-stream → WebSocket and HLS', () => {
  it('streams the camera enhanced over WebSocket (brighter than raw) and as HLS that decodes', async () => {
    // Colour bars darkened like a night scene: mid-tones the enhancer must lift (a white ball on
    // black, the default pattern, has nothing for a curve to brighten).
    const cam = await RtspServer.start({ width: 320, height: 240, fps: 10, pattern: 'smpte', brightness: -0.6 });
    const config = parseConfig(`
cameras:
  - name: gate
    input: "${cam.url()}"
    width: ${W}
    height: ${H}
    fps: 10
    outputs: { hls: [enhanced], websocket: [raw, enhanced] }
enhance: { scale: 1/4, strength: 1.5, batch: { maxSize: 1, maxWaitMs: 0 } }
server: { host: 127.0.0.1, port: 0 }
`);
    app = await PieApp.start(config, { sinks: encoderSinks });
    const ws = app.url.replace('http', 'ws');
    const [raw, enh] = await Promise.all([collect(`${ws}/ws/gate/raw`, 6000), collect(`${ws}/ws/gate/enhanced`, 6000)]);
    // node-rtsp-stream's header first: "jsmp", width, height (UInt16 BE).
    for (const s of [raw, enh]) {
      expect(s[0]!.subarray(0, 4).toString()).toBe('jsmp');
      expect([s[0]!.readUInt16BE(4), s[0]!.readUInt16BE(6)]).toEqual([W, H]);
    }
    const r = await decodedMean(Buffer.concat(raw.slice(1)));
    const e = await decodedMean(Buffer.concat(enh.slice(1)));
    expect(r.frames).toBeGreaterThan(5);
    expect(e.frames).toBeGreaterThan(5);
    expect(e.mean).toBeGreaterThan(r.mean + 0.03);
    // HLS: the playlist is served and its segments decode.
    const playlist = `${app.url}/hls/gate/enhanced/index.m3u8`;
    const text = await (await fetch(playlist)).text();
    expect(text).toMatch(/#EXTM3U[\s\S]*segment\d+\.ts/);
    // A live playlist never ends: read 10 frames of it.
    const frames = await runTool(['-hide_banner', '-loglevel', 'error', '-i', playlist, '-frames:v', '10', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1']);
    expect(frames.length / (W * H * 3)).toBe(10);
    const status = await (await fetch(`${app.url}/api/cameras`)).json();
    expect(status.cameras[0]).toMatchObject({ camera: 'gate', state: 'online' });
    expect(status.cameras[0].framesProcessed).toBeGreaterThan(10);
    await app.close();
    await cam.stop();
    expect(liveProcesses()).toEqual([]);
  }, 60_000);
});

describe('live: start-up failures', () => {
  it('a port in use is a clear error and leaves no encoder running', async () => {
    const config = (port: number) => parseConfig(`
cameras:
  - { name: a, input: "synthetic:", width: 64, height: 48, fps: 5, outputs: { hls: [raw], websocket: [enhanced] } }
server: { host: 127.0.0.1, port: ${port} }
`);
    const first = await PieApp.start(config(0), { sinks: encoderSinks });
    const port = Number(new URL(first.url).port);
    await expect(PieApp.start(config(port), { sinks: encoderSinks })).rejects.toThrow(/port \d+ on 127\.0\.0\.1 is already in use[\s\S]*fix:/);
    await first.close();
    expect(liveProcesses()).toEqual([]);
  }, 30_000);
});

// CameraSource against real parts: real ffmpeg, a real RTSP server (GStreamer), real files.
// Backoff delays and watchdog timeouts are scaled down so the file runs in seconds.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CameraSource, type CameraSourceOptions, type CameraState, type CameraStatus } from '../../src/ingest/camera-source.js';
import type { Frame } from '../../src/ingest/frame.js';
import { makeClip, meanOf } from '../helpers/media.js';
import { freePort, RtspServer, rtspServerMissing, stopAllRtspServers } from '../helpers/rtsp-server.js';

const noServer = rtspServerMissing();
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pie-cam-'));
const sources: CameraSource[] = [];

afterAll(async () => {
  await Promise.all(sources.map((s) => s.stop()));
  await stopAllRtspServers();
  fs.rmSync(tmp, { recursive: true, force: true });
});

// Small and quick: the server sends 320×240 at 10 fps; cameras process 160×120 at 5 fps.
const W = 160;
const H = 120;
const FPS = 5;
// ffmpeg probes an RTSP stream for about 3 s before its first frame (analyzeduration), so the
// first-frame timeout stays well above that; the backoff is go2rtc's shape, scaled down.
const FAST = { stallTimeoutMs: 1500, firstFrameTimeoutMs: 8000, backoff: { delaysMs: [300, 300, 300, 600, 1200], resetAfterMs: 5000 } };

function camera(o: Partial<CameraSourceOptions> & Pick<CameraSourceOptions, 'name' | 'input'>): { source: CameraSource; frames: Frame[]; logs: string[] } {
  const logs: string[] = [];
  const source = new CameraSource({ width: W, height: H, fps: FPS, ...FAST, log: (l) => logs.push(l), ...o });
  sources.push(source);
  const frames: Frame[] = [];
  source.frames$.subscribe((f) => frames.push(f));
  source.start();
  return { source, frames, logs };
}

/** Every status$ emission with the time it came (the transitions). */
function transitions(source: CameraSource): { t: number; s: CameraStatus }[] {
  const out: { t: number; s: CameraStatus }[] = [];
  source.status$.subscribe((s) => out.push({ t: performance.now(), s }));
  return out;
}

async function until(what: string, cond: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const state = (s: CameraSource): CameraState => s.status().state;
const pidGone = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
};

function expectWellFormed(frames: readonly Frame[], camera: string): void {
  for (const [i, f] of frames.entries()) {
    expect(f.camera).toBe(camera);
    expect([f.width, f.height, f.data.length]).toEqual([W, H, W * H * 3]);
    if (i > 0) {
      expect(f.seq).toBe(frames[i - 1]!.seq + 1);
      expect(f.ptsMs).toBeGreaterThan(frames[i - 1]!.ptsMs);
    }
  }
}

// Concurrent: these tests mostly wait (ffmpeg's probing, timeouts), each on its own server and port.
describe.skipIf(noServer !== undefined).concurrent('CameraSource on a real RTSP server', () => {
  it('ingests over TCP and over UDP at the processing size and fps, and stop() leaves no ffmpeg', async () => {
    const server = await RtspServer.start({ width: 320, height: 240, fps: 10 });
    // ffmpeg hands over the ~3 s it buffered while probing in one burst: measure fps over a 2 s
    // window that starts after it.
    const tcp = camera({ name: 'tcp', fpsWindowMs: 2000, input: { kind: 'rtsp', url: server.url(), transport: 'tcp' } });
    const udp = camera({ name: 'udp', fpsWindowMs: 2000, input: { kind: 'rtsp', url: server.url(), transport: 'udp' } });
    expect(tcp.source.status().input).toBe(`${server.url()} (tcp)`);
    await until('frames on both', () => tcp.frames.length > 0 && udp.frames.length > 0, 10_000).catch((e: Error) => {
      throw new Error(`${e.message}: ${JSON.stringify([tcp.source.status(), udp.source.status(), tcp.logs, udp.logs])}`);
    });
    const firstAt = performance.now();
    await until('2.5 s of streaming', () => performance.now() - firstAt > 2500 && tcp.frames.length > 0 && udp.frames.length > 0, 10_000);
    for (const [name, c] of [['tcp', tcp], ['udp', udp]] as const) {
      expectWellFormed(c.frames, name);
      expect(c.frames[0]!.seq).toBe(0);
      const st = c.source.status();
      expect(st).toMatchObject({ camera: name, state: 'online', restarts: 0, lastError: null });
      expect(st.framesTotal).toBe(c.frames.length);
      expect(st.fpsIn).toBeGreaterThan(FPS * 0.7);
      expect(st.fpsIn).toBeLessThan(FPS * 1.3);
      // The pixels are the server's pattern (a white ball on black), not a blank frame.
      expect(c.frames.at(-1)!.data.reduce((m, v) => Math.max(m, v), 0)).toBeGreaterThan(200);
    }
    const pids = [tcp.source.pid!, udp.source.pid!];
    expect(pids.every((p) => p > 0 && !pidGone(p))).toBe(true);
    let completed = false;
    tcp.source.frames$.subscribe({ complete: () => { completed = true; } });
    await Promise.all([tcp.source.stop(), tcp.source.stop(), udp.source.stop()]);
    await tcp.source.stop();
    expect(pids.map(pidGone)).toEqual([true, true]);
    expect(completed).toBe(true);
    expect(tcp.source.status()).toMatchObject({ state: 'stopped', fpsIn: 0 });
    expect(() => tcp.source.start()).toThrow(/was stopped/);
    await server.stop();
  }, 20_000);

  it('goes offline when the server goes, paces restarts by the backoff, and resumes when it is back', async () => {
    const server = await RtspServer.start({ width: W, height: H, fps: 10 });
    const cam = camera({ name: 'pulled', input: { kind: 'rtsp', url: server.url() } });
    const seen = transitions(cam.source);
    await until('online', () => cam.frames.length >= 3, 10_000);
    const pulledAt = performance.now();
    await server.stop();
    await until('five restarts', () => cam.source.status().restarts >= 5 && state(cam.source) === 'offline', 10_000);
    const down = cam.source.status();
    const before = cam.frames.length; // read now: the first frames come in a burst (ffmpeg's probe backlog)
    expect(down.fpsIn).toBe(0);
    expect(down.lastError?.message).toMatch(/camera "pulled"/);

    // Each restart came after its backoff delay (and not much later): 300, 300, 300, 600, 1200 ms.
    const states = seen.filter((x) => x.t >= pulledAt);
    const waits: number[] = [];
    for (let i = 1; i < states.length; i++) {
      if (states[i - 1]!.s.state === 'offline' && states[i]!.s.state === 'restarting') waits.push(states[i]!.t - states[i - 1]!.t);
    }
    expect(waits.length).toBeGreaterThanOrEqual(5);
    FAST.backoff.delaysMs.forEach((d, i) => {
      expect(waits[i]).toBeGreaterThanOrEqual(d - 15);
      expect(waits[i]).toBeLessThan(d + 1000);
    });

    // Same port, same CameraSource: frames come back and seq goes on.
    const back = await RtspServer.start({ port: server.port, width: W, height: H, fps: 10 });
    // fps in, read on every frame of the reconnect: ffmpeg's probe backlog arrives in a burst, and
    // counted as a rate it read up to 8× the camera's (39.8 at 5 fps).
    let maxFps = 0;
    const sub = cam.source.frames$.subscribe(() => { maxFps = Math.max(maxFps, cam.source.status().fpsIn); });
    await until('frames again', () => cam.frames.length >= before + 5, 10_000);
    sub.unsubscribe();
    expect(maxFps).toBeGreaterThan(0);
    expect(maxFps).toBeLessThanOrEqual(FPS);
    expect(state(cam.source)).toBe('online');
    expectWellFormed(cam.frames, 'pulled');
    expect(cam.source.status().restarts).toBeGreaterThanOrEqual(3);
    await cam.source.stop();
    await back.stop();
  }, 25_000);

  it('restarts a hung camera (no frame for N s) and resumes', async () => {
    const server = await RtspServer.start({ width: W, height: H, fps: 10 });
    const cam = camera({ name: 'hung', input: { kind: 'rtsp', url: server.url() } });
    await until('online', () => cam.frames.length >= 3, 10_000);
    const pid = cam.source.pid!;
    server.pause(); // the TCP connection stays up, nothing flows
    await until('stall detected', () => /no frame for 1.5 s/.test(cam.source.status().lastError?.message ?? ''), 5000);
    expect(cam.source.status().lastError!.kind).toBe('input');
    await until('the hung ffmpeg killed', () => pidGone(pid), 3000);
    const n = cam.frames.length;
    server.resume();
    await until('frames again', () => cam.frames.length >= n + 3, 15_000);
    expect(state(cam.source)).toBe('online');
    expect(cam.source.status().restarts).toBeGreaterThanOrEqual(1);
    await cam.source.stop();
    await server.stop();
  }, 30_000);

  it('never shows a password: not in status, errors or logs, right or wrong', async () => {
    const user = 'admin';
    const password = 'hunter2-s3cret';
    const server = await RtspServer.start({ width: W, height: H, fps: 10, user, password });
    const good = camera({ name: 'good', input: { kind: 'rtsp', url: server.url({ user, password }) } });
    const bad = camera({ name: 'bad', input: { kind: 'rtsp', url: server.url({ user, password: 'wrong-s3cret' }) } });
    await until('good online, bad failed', () => good.frames.length >= 3 && bad.source.status().lastError !== null, 10_000);
    expect(state(good.source)).toBe('online');
    expect(bad.source.status().lastError!.message).toMatch(/401|[Uu]nauthorized/);
    expect(bad.source.status().lastError!.message).toContain('rtsp://***:***@127.0.0.1');
    const visible = JSON.stringify([good.source.status(), bad.source.status(), good.logs, bad.logs]);
    expect(visible).not.toMatch(/hunter2|wrong-s3cret/);
    expect(good.source.status().input).toContain('***:***@');
  }, 20_000);
});

describe('RTSP credentials', () => {
  it.skipIf(noServer)('hands ffmpeg the URL on stdin: the password, a literal @ in it too, is not in /proc/<pid>/cmdline nor anywhere shown', async () => {
    const password = 'p@ss:w0rd-l1teral';
    const server = await RtspServer.start({ width: W, height: H, fps: 10, user: 'admin', password });
    // Written as a new user would, unencoded: the credentials end at the authority's last '@'.
    const url = `rtsp://admin:${password}@127.0.0.1:${server.port}${server.path}`;
    const t0 = Date.now();
    const cam = camera({ name: 'secret', input: { kind: 'rtsp', url } });
    await until('frames with the password accepted', () => cam.frames.length >= 3, 10_000);
    const firstFramesMs = Date.now() - t0;
    const cmdline = fs.readFileSync(`/proc/${cam.source.pid!}/cmdline`, 'utf8').split('\0');
    expect(cmdline).toContain('pipe:0');
    expect(cmdline.join(' ')).not.toMatch(/w0rd|p@ss|p%40ss|rtsp:/);
    expect(cam.source.status().input).toBe(`rtsp://***:***@127.0.0.1:${server.port}${server.path} (tcp)`);
    expect(JSON.stringify([cam.source.status(), cam.logs])).not.toMatch(/w0rd|ss:/);
    // Connecting through the script costs no more than the direct form did (~1 s to the first frame).
    expect(firstFramesMs).toBeLessThan(6000);
    await cam.source.stop();
    await server.stop();
  }, 20_000);
});

describe.concurrent('CameraSource failures', () => {
  it('restarts a camera that accepts the connection but never answers (first-frame timeout)', async () => {
    // A black hole: listens, accepts, says nothing — a camera whose RTSP service hangs.
    const sockets = new Set<net.Socket>();
    const hole = net.createServer((sock) => { sockets.add(sock); sock.on('error', () => {}); });
    await new Promise<void>((r) => hole.listen(0, '127.0.0.1', r));
    const port = (hole.address() as net.AddressInfo).port;
    const cam = camera({ name: 'mute', firstFrameTimeoutMs: 1000, input: { kind: 'rtsp', url: `rtsp://127.0.0.1:${port}/cam` } });
    const pid = await new Promise<number>((resolve) => {
      const poll = setInterval(() => { if (cam.source.pid) { clearInterval(poll); resolve(cam.source.pid); } }, 10);
    });
    await until('first-frame timeout', () => /no frame within 1 s of starting ffmpeg/.test(cam.source.status().lastError?.message ?? ''), 4000);
    await until('a restart', () => cam.source.status().restarts >= 1, 3000);
    expect(pidGone(pid)).toBe(true);
    expect(cam.source.status().framesTotal).toBe(0);
    await cam.source.stop();
    for (const sock of sockets) sock.destroy();
    await new Promise((r) => hole.close(r));
  }, 10_000);

  it('reports an unreachable camera as offline with a redacted error, without crashing', async () => {
    const port = await freePort(); // nothing listens there
    const cam = camera({ name: 'gone', input: { kind: 'rtsp', url: `rtsp://admin:topsecret99@127.0.0.1:${port}/cam` } });
    await until('a failure', () => cam.source.status().lastError !== null, 5000);
    const st = cam.source.status();
    expect(['offline', 'restarting']).toContain(st.state);
    expect(st.lastError).toMatchObject({ kind: 'input' });
    expect(st.lastError!.message).toMatch(/Connection refused/);
    expect(st.lastError!.message).toContain(`rtsp://***:***@127.0.0.1:${port}`);
    expect(st.lastError!.fix).toMatch(/reachable/);
    await until('a restart', () => cam.source.status().restarts >= 1, 3000);
    expect(JSON.stringify([cam.source.status(), cam.logs])).not.toContain('topsecret99');
    await cam.source.stop();
  }, 10_000);

  it('reports a corrupt file clearly while other cameras (a looped file, a synthetic scene) keep running', async () => {
    const corrupt = path.join(tmp, 'corrupt.mp4');
    fs.writeFileSync(corrupt, Buffer.from(Array.from({ length: 64 * 1024 }, (_, i) => (i * 7919) % 251)));
    const clip = path.join(tmp, 'clip.mp4');
    await makeClip(clip, { width: 320, height: 240, fps: 10, seconds: 1 });

    const broken = camera({ name: 'broken', input: { kind: 'file', path: corrupt } });
    const file = camera({ name: 'file', input: { kind: 'file', path: clip } });
    const synth = camera({ name: 'synth', input: { kind: 'synthetic' } });
    // 2.6 s of a 1 s clip: it has looped at least twice.
    await until('13 frames from the looped file', () => file.frames.length >= 13 && synth.frames.length >= 13, 10_000);
    const st = broken.source.status();
    expect(st.state).not.toBe('online');
    expect(st.framesTotal).toBe(0);
    expect(st.restarts).toBeGreaterThanOrEqual(1);
    expect(st.lastError).toMatchObject({ kind: 'input' });
    expect(st.lastError!.message).toMatch(/camera "broken".*Invalid data found/);
    expect(st.lastError!.message).toContain('corrupt.mp4');
    for (const [name, c] of [['file', file], ['synth', synth]] as const) {
      expectWellFormed(c.frames, name);
      expect(c.source.status()).toMatchObject({ state: 'online', restarts: 0, lastError: null });
      expect(c.source.status().fpsIn).toBeGreaterThan(FPS * 0.7);
      expect(c.source.status().fpsIn).toBeLessThan(FPS * 1.3);
    }
    expect(meanOf(synth.frames.at(-1)!.data)).toBeLessThan(0.2); // the dark scene
    await Promise.all([broken.source.stop(), file.source.stop(), synth.source.stop()]);
  }, 20_000);
});

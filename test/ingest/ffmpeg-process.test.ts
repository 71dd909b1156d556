import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { isPieError } from '../../src/errors.js';
import { resolveTool } from '../../src/ingest/ffmpeg-bin.js';
import { FfmpegProcess, runTool } from '../../src/ingest/ffmpeg-process.js';
import { rawFrames, readAhead } from '../../src/ingest/frame-splitter.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pie-ff-'));

describe('ffmpeg resolution', () => {
  it('prefers the configured path, then PATH', () => {
    const onPath = resolveTool('ffmpeg');
    expect(['PATH', 'npm']).toContain(onPath.source);
    expect(resolveTool('ffmpeg', { configured: onPath.path }).source).toBe('configured');
  });

  it('falls back to the npm static build when PATH has none', () => {
    let r;
    try {
      r = resolveTool('ffmpeg', { envPath: tmp });
    } catch (e) {
      // On platforms where the optional package did not install, the error must say how to fix it.
      expect(isPieError(e, 'ffmpeg-missing')).toBe(true);
      return;
    }
    expect(r.source).toBe('npm');
    expect(r.path).toMatch(/@ffmpeg-installer/);
  });

  it('says how to install ffmpeg when none is found', () => {
    try {
      resolveTool('ffmpeg', { envPath: tmp, npm: false });
      expect.unreachable();
    } catch (e) {
      expect(isPieError(e, 'ffmpeg-missing')).toBe(true);
      expect((e as Error).message).toMatch(/apt-get install ffmpeg/);
      expect((e as Error).message).toMatch(/PIE_FFMPEG/);
    }
  });

  it('rejects a configured path that is not executable', () => {
    const f = path.join(tmp, 'not-ffmpeg');
    fs.writeFileSync(f, 'x');
    expect(() => resolveTool('ffmpeg', { configured: f })).toThrow(/not an executable/);
  });
});

describe('FfmpegProcess', () => {
  it('tells a failed start from a later death', async () => {
    // Executable, but its interpreter does not exist: spawn itself fails.
    const broken = path.join(tmp, 'broken-ffmpeg');
    fs.writeFileSync(broken, '#!/nonexistent/interpreter\n');
    fs.chmodSync(broken, 0o755);
    await expect(FfmpegProcess.start(['-version'], { configured: broken })).rejects.toMatchObject({ kind: 'ffmpeg-missing' });
    // Starts fine, then dies on a missing input.
    const p = await FfmpegProcess.start(['-hide_banner', '-i', path.join(tmp, 'missing.mp4'), '-f', 'null', '-']);
    const exit = await p.exited;
    expect(exit.code).not.toBe(0);
    expect(exit.closedByUs).toBe(false);
    expect(exit.stderrTail).toMatch(/No such file/);
  });

  it('close() stops an endless ffmpeg and is safe to call twice', async () => {
    const p = await FfmpegProcess.start(['-hide_banner', '-f', 'lavfi', '-i', 'testsrc2=size=64x64:rate=25', '-f', 'rawvideo', 'pipe:1']);
    p.stdout.resume();
    expect(p.running).toBe(true);
    const [a, b] = await Promise.all([p.close(), p.close()]);
    expect(a).toBe(b);
    expect(a.closedByUs).toBe(true);
    expect(p.running).toBe(false);
    expect(() => process.kill(p.pid!, 0)).toThrow(); // the OS process is gone
    expect(await p.close()).toBe(a);
  });

  it('keeps passwords out of its stderr tail', async () => {
    await expect(runTool(['-hide_banner', '-rw_timeout', '200000', '-i', 'rtsp://admin:hunter2@127.0.0.1:1/x', '-f', 'null', '-']))
      .rejects.toSatisfy((e: Error) => !e.message.includes('hunter2') && e.message.includes('rtsp://***:***@127.0.0.1') && isPieError(e, 'ffmpeg-failed'));
  });
});

describe('FfmpegProcess.frames()', () => {
  const W = 96, H = 64, N = 40, bytes = W * H * 3;
  const args = ['-hide_banner', '-f', 'lavfi', '-i', `testsrc2=size=${W}x${H}:rate=25`, '-frames:v', String(N), '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'];
  const viaPipe = async (): Promise<Buffer> => runTool(args);

  it('reads stdout in place through a FIFO: the same bytes as the pipe, whole frames in order, each in a buffer from take()', async () => {
    const expected = await viaPipe();
    expect(expected.length).toBe(N * bytes);
    let taken = 0;
    const p = await FfmpegProcess.start(args, { frames: { bytes, take: () => { taken++; return new Uint8Array(new SharedArrayBuffer(bytes)); } } });
    expect(p.readsInPlace).toBe(process.platform !== 'win32');
    const frames: Uint8Array[] = [];
    for await (const f of p.frames()) frames.push(f);
    expect(frames.length).toBe(N);
    frames.forEach((f, i) => expect(Buffer.from(f).equals(expected.subarray(i * bytes, (i + 1) * bytes))).toBe(true));
    expect(frames.every((f) => f.buffer instanceof SharedArrayBuffer)).toBe(true);
    expect(taken).toBe(N + 1); // one per frame, and the one being filled when the stream ended
    expect((await p.exited).code).toBe(0);
  });

  it('pauses a FIFO for a slow reader and loses nothing: ffmpeg waits, as on a full pipe', async () => {
    const expected = await viaPipe();
    const p = await FfmpegProcess.start(args, { frames: { bytes, take: () => new Uint8Array(bytes) } });
    let i = 0;
    for await (const f of p.frames()) {
      expect(Buffer.from(f).equals(expected.subarray(i * bytes, (i + 1) * bytes))).toBe(true);
      i++;
      if (i % 8 === 0) await new Promise((r) => setTimeout(r, 50));
    }
    expect(i).toBe(N);
  });

  it('stops reading when the consumer breaks off, and close() ends the process', async () => {
    const p = await FfmpegProcess.start(['-hide_banner', '-f', 'lavfi', '-i', `testsrc2=size=${W}x${H}:rate=25`, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], { frames: { bytes, take: () => new Uint8Array(bytes) } });
    let n = 0;
    for await (const f of p.frames()) { expect(f.length).toBe(bytes); if (++n === 3) break; }
    expect(() => p.frames()).toThrow(/already called/);
    const exit = await p.close();
    expect(exit.closedByUs || exit.code !== 0).toBe(true);
    expect(p.running).toBe(false);
  });

  it.skipIf(!fs.existsSync('/proc/self/fd'))('leaves no descriptor behind: read to the end, broken off, or never read', async () => {
    const fds = (): number => fs.readdirSync('/proc/self/fd').length;
    const endless = ['-hide_banner', '-f', 'lavfi', '-i', `testsrc2=size=${W}x${H}:rate=25`, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'];
    const once = async (): Promise<void> => {
      const take = { frames: { bytes, take: () => new Uint8Array(bytes) } };
      const all = await FfmpegProcess.start(args, take);
      for await (const f of all.frames()) expect(f.length).toBe(bytes);
      await all.exited;
      const broken = await FfmpegProcess.start(endless, take);
      for await (const _ of broken.frames()) break;
      await broken.close();
      // Never read: its FIFO fills two frames ahead and pauses, so no end-of-file closes it; the exit must.
      const unread = await FfmpegProcess.start(endless, take);
      await new Promise((r) => setTimeout(r, 200));
      await unread.close();
    };
    await once(); // warm: the first start opens what stays open (the loader, the worker pool)
    await new Promise((r) => setTimeout(r, 50));
    const before = fds();
    for (let i = 0; i < 5; i++) await once();
    await new Promise((r) => setTimeout(r, 50));
    expect(fds()).toBeLessThanOrEqual(before);
  });

  it('says frames() needs the frames option', async () => {
    const p = await FfmpegProcess.start(['-hide_banner', '-version']);
    expect(() => p.frames()).toThrow(/needs the frames option/);
    await p.exited;
  });
});

describe('rawFrames', () => {
  it('cuts arbitrary chunks into whole frames and drops a trailing partial one', async () => {
    const s = new PassThrough();
    const bytes = Uint8Array.from({ length: 3 * 12 + 5 }, (_, i) => i);
    const chunks = [7, 1, 13, 20].reduce<{ out: Uint8Array[]; at: number }>((acc, n) => {
      acc.out.push(bytes.subarray(acc.at, acc.at + n));
      acc.at += n;
      return acc;
    }, { out: [], at: 0 }).out;
    for (const c of chunks) s.write(Buffer.from(c));
    s.end();
    const frames: number[][] = [];
    for await (const f of rawFrames(s, 12)) frames.push(Array.from(f));
    expect(frames).toEqual([0, 1, 2].map((k) => Array.from(bytes.subarray(k * 12, (k + 1) * 12))));
  });
});

describe('readAhead', () => {
  // 4 frames of 8×8 RGB from a real ffmpeg, read only after it has exited.
  const args = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=s=8x8:r=4:d=1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'];
  const count = async (it: AsyncIterable<Uint8Array>): Promise<number> => { let n = 0; for await (const _ of it) n++; return n; };

  it('reads a short-lived child\'s output from the start: every frame is there when asked for after the child is done', async () => {
    // Without it a generator would not be listening yet, and Node may throw unread stdout away when
    // the child exits (seen as 1 run in 8 losing all 4 frames of a 1-s clip's decode in `detect`).
    for (let k = 0; k < 5; k++) {
      const p = await FfmpegProcess.start(args);
      const frames = readAhead(rawFrames(p.stdout, 8 * 8 * 3));
      await new Promise((r) => setTimeout(r, 300)); // ffmpeg is done with 4 tiny frames well before this
      expect(await count(frames)).toBe(4);
      expect((await p.exited).code).toBe(0);
    }
  });

  it('passes a failure on to the next read, never as an unhandled rejection', async () => {
    async function* failing(): AsyncGenerator<number> { yield 1; throw new Error('decoder broke'); }
    const it = readAhead(failing());
    expect(await it.next()).toEqual({ done: false, value: 1 });
    await new Promise((r) => setTimeout(r, 10)); // the read ahead has failed by now, unobserved
    await expect(it.next()).rejects.toThrow('decoder broke');
  });
});

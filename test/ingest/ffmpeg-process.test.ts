import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { isPieError } from '../../src/errors.js';
import { resolveTool } from '../../src/ingest/ffmpeg-bin.js';
import { FfmpegProcess, runTool } from '../../src/ingest/ffmpeg-process.js';
import { rawFrames } from '../../src/ingest/frame-splitter.js';

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

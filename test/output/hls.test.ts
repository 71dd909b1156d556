// HLS with the real ffmpeg: frames in, a live playlist out whose old segments are deleted and whose
// listed segments decode to the frames' size and brightness.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runTool } from '../../src/ingest/ffmpeg-process.js';
import { DropCounter } from '../../src/pipeline/dropCounter.js';
import { HlsWriter } from '../../src/output/hls.js';
import { alive, BAR_MEAN, barFrame, meanOf } from './helpers.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pie-hls-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const W = 160;
const H = 120;
const FPS = 10;

describe('HlsWriter', () => {
  it('writes a bounded live playlist, deletes old segments, and decodes', async () => {
    const drops = new DropCounter();
    const dir = path.join(tmp, 'cam1', 'enhanced');
    const w = await HlsWriter.start({ camera: 'cam1', variant: 'enhanced', width: W, height: H, fps: FPS, dir,
      segmentSeconds: 1, listSize: 3, preset: 'ultrafast', drops });
    expect(w.playlist).toBe(path.join(dir, 'index.m3u8'));
    // 6 s of video: 6 segments of 1 s, so with 3 listed the first ones must be deleted.
    const n = 6 * FPS;
    for (let i = 0; i < n; i++) {
      await w.ready(); // a source that may wait (a test) waits; the live pipeline drops instead
      expect(w.write(barFrame('cam1', i, W, H))).toBe(true);
    }
    const pid = w.pid!;
    const exit = await w.close();
    expect(exit.code).toBe(0);
    expect(await w.close()).toBe(exit); // idempotent
    expect(alive(pid)).toBe(false);
    expect(w.stats()).toMatchObject({ framesWritten: n, framesDropped: 0, running: false, playlist: w.playlist });
    expect(drops.count()).toBe(0);

    const m3u8 = fs.readFileSync(w.playlist, 'utf8');
    const listed = [...m3u8.matchAll(/^(segment\d+\.ts)$/gm)].map((m) => m[1]!);
    const durations = [...m3u8.matchAll(/^#EXTINF:([\d.]+),/gm)].map((m) => Number(m[1]));
    expect(listed).toHaveLength(3);
    expect(m3u8).toMatch(/#EXT-X-MEDIA-SEQUENCE:3\b/);
    expect(m3u8).toMatch(/#EXT-X-ENDLIST/);
    for (const d of durations) expect(d).toBeCloseTo(1, 1);
    // Media sequence 3: segments 0–2 were produced and dropped from the list, and deleted from disk.
    expect(fs.existsSync(path.join(dir, 'segment000000.ts'))).toBe(false);
    for (const s of listed) expect(fs.existsSync(path.join(dir, s))).toBe(true);
    const onDisk = fs.readdirSync(dir).filter((f) => f.endsWith('.ts'));
    expect(onDisk.length).toBeLessThanOrEqual(listed.length + 1); // ffmpeg keeps one spare for late readers

    const probe = (await runTool(['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height,codec_name', '-of', 'csv=p=0', w.playlist], { tool: 'ffprobe' })).toString();
    // ffprobe lists the stream under the HLS program and again on its own.
    expect(new Set(probe.split('\n').filter(Boolean))).toEqual(new Set([`h264,${W},${H}`]));
    const raw = await runTool(['-hide_banner', '-nostdin', '-loglevel', 'error', '-i', w.playlist, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1']);
    const frameBytes = W * H * 3;
    expect(raw.length % frameBytes).toBe(0);
    expect(raw.length / frameBytes).toBe(Math.round(durations.reduce((a, b) => a + b, 0) * FPS));
    expect(meanOf(raw)).toBeCloseTo(BAR_MEAN, 1);
    expect(Math.abs(meanOf(raw) - BAR_MEAN)).toBeLessThan(0.02);
  }, 30_000);

  it('drops and counts frames while ffmpeg is not draining, never queueing more than one', async () => {
    const drops = new DropCounter();
    const w = await HlsWriter.start({ camera: 'cam2', variant: 'raw', width: W, height: H, fps: FPS, dir: path.join(tmp, 'cam2'), preset: 'ultrafast', drops });
    // A burst far faster than any encoder: a 57 KB frame fills the pipe, the rest must be dropped.
    let accepted = 0;
    for (let i = 0; i < 50; i++) if (w.write(barFrame('cam2', i, W, H))) accepted++;
    const s = w.stats();
    expect(s.framesWritten).toBe(accepted);
    expect(s.framesDropped).toBe(50 - accepted);
    expect(accepted).toBeLessThan(5);
    expect(drops.count('cam2', 'encoder')).toBe(50 - accepted);
    expect(() => w.write(barFrame('cam2', 0, 80, 60))).toThrow(/does not match/);
    await Promise.all([w.close(), w.close()]);
    expect(alive(w.pid!)).toBe(false);
    // After close, writes are dropped and counted, not thrown.
    expect(w.write(barFrame('cam2', 99, W, H))).toBe(false);
  }, 20_000);
});

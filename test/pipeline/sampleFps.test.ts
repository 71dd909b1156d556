import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { DropCounter } from '../../src/pipeline/dropCounter.js';
import { sampleFps } from '../../src/pipeline/sampleFps.js';
import { frame, testScheduler, type TestFrame } from './helpers.js';

// k-th frame of a camera at `rate` fps; k·(1000/rate) is deliberately not exact in floating point.
const at = (camera: string, rate: number, k: number): TestFrame => frame(`${camera}${k}`, camera, k * (1000 / rate));

const run = async (frames: TestFrame[], fps: number, drops = new DropCounter()): Promise<string[]> =>
  (await lastValueFrom(from(frames).pipe(sampleFps(fps, drops), toArray()))).map((f) => f.id);

describe('sampleFps', () => {
  it('keeps every third frame from 30 fps to 10 fps, counting the rest as fps drops', () => {
    const drops = new DropCounter();
    testScheduler().run(({ cold, expectObservable }) => {
      const v = Object.fromEntries([...'abcdefg'].map((c, k) => [c, at('cam', 30, k)]));
      expectObservable(cold('abcdefg|', v).pipe(sampleFps(10, drops))).toBe('a--d--g|', v);
    });
    expect(drops.snapshot()).toEqual({ cam: { fps: 4, 'batch-replaced': 0, busy: 0, failed: 0, late: 0, encoder: 0, 'slow-client': 0 } });
  });

  it('samples each camera on its own clock', () => {
    const drops = new DropCounter();
    testScheduler().run(({ cold, expectObservable }) => {
      // Two interleaved 20 fps cameras sampled to 10 fps: every other frame of each.
      const v = { a: at('x', 20, 0), b: at('y', 20, 0), c: at('x', 20, 1), d: at('y', 20, 1), e: at('x', 20, 2), f: at('y', 20, 2) };
      expectObservable(cold('abcdef|', v).pipe(sampleFps(10, drops))).toBe('ab--ef|', v);
    });
    expect([drops.count('x', 'fps'), drops.count('y', 'fps')]).toEqual([1, 1]);
  });

  it('keeps exactly the target rate from a rate it does not divide (15 → 10 fps)', async () => {
    const frames = Array.from({ length: 45 }, (_, k) => at('c', 15, k)); // 3 s
    const drops = new DropCounter();
    const kept = await run(frames, 10, drops);
    expect(kept).toHaveLength(30);
    expect(drops.count('c', 'fps')).toBe(15);
  });

  it('never keeps more than fps frames in any second after the first frame', async () => {
    const frames = Array.from({ length: 250 }, (_, k) => frame(`${k}`, 'c', k * 37.3 + (k % 3) * 5)); // jittery ~27 fps
    const kept = (await lastValueFrom(from(frames).pipe(sampleFps(7, new DropCounter()), toArray()))).map((f) => f.ptsMs);
    for (const t of kept) expect(kept.filter((u) => u >= t && u < t + 1000).length).toBeLessThanOrEqual(7 + 1);
    // On the grid: never two kept frames in one 1/7 s slot.
    const slots = kept.map((t) => Math.floor((t * 7) / 1000));
    expect(new Set(slots).size).toBe(slots.length);
  });

  it('keeps everything from a source slower than the target', async () => {
    const drops = new DropCounter();
    expect(await run([0, 1, 2, 3].map((k) => at('c', 5, k)), 10, drops)).toEqual(['c0', 'c1', 'c2', 'c3']);
    expect(drops.count()).toBe(0);
  });

  it('starts a new grid when a camera\'s clock goes backwards', async () => {
    const frames = [frame('a', 'c', 5000), frame('b', 'c', 5050), frame('c', 'c', 5100), frame('d', 'c', 0), frame('e', 'c', 50), frame('f', 'c', 100)];
    expect(await run(frames, 10)).toEqual(['a', 'c', 'd', 'f']);
  });

  it('keeps separate state per subscription', async () => {
    const src = from([at('c', 30, 0), at('c', 30, 1), at('c', 30, 3)]).pipe(sampleFps(10, new DropCounter()));
    const ids = async (): Promise<string[]> => (await lastValueFrom(src.pipe(toArray()))).map((f) => f.id);
    expect(await ids()).toEqual(['c0', 'c3']);
    expect(await ids()).toEqual(['c0', 'c3']);
  });

  it('refuses a rate that is not positive', () => {
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => sampleFps(bad, new DropCounter())).toThrow(RangeError);
  });
});

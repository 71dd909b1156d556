import { Subject, throwError } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { DropCounter } from '../../src/pipeline/dropCounter.js';
import { newestBatches } from '../../src/pipeline/newestBatches.js';
import { frame, testScheduler, type TestFrame } from './helpers.js';

// a, c, e, g from camera A; b, d, f, h from camera B; x, y from camera C.
const cams: Record<string, string> = { a: 'A', b: 'B', c: 'A', d: 'B', e: 'A', f: 'B', g: 'A', h: 'B', x: 'C', y: 'C' };
const items = Object.fromEntries(Object.entries(cams).map(([id, cam]) => [id, frame(id, cam)]));
const ids = (fs: readonly TestFrame[]): string => fs.map((f) => f.id).join('');

describe('newestBatches', () => {
  it('while busy keeps each camera\'s newest frame (in the order cameras started waiting), and a free stage takes them all as one batch', () => {
    const drops = new DropCounter();
    const discarded: string[] = [];
    testScheduler().run(({ cold, expectObservable }) => {
      const stage = (fs: readonly TestFrame[]) => cold('------(r|)', { r: ids(fs) }); // 6 ms a batch
      // a goes at once and runs 0–6; b, c, d, x come meanwhile: d replaces b (B keeps its place, before
      // A's c), c and x wait. At 6 the batch is d, c, x: cameras B, A, C in the order they started waiting.
      expectObservable(cold('abcdx-----------|', items).pipe(newestBatches(stage, { drops, maxSize: 4, maxWaitMs: 0, discard: (f) => discarded.push(f.id) })))
        .toBe('------a-----r---|', { a: 'a', r: 'dcx' });
    });
    expect(discarded).toEqual(['b']);
    expect(drops.count('B', 'busy')).toBe(1);
    expect(drops.count()).toBe(1);
  });

  it('a frame that finds the stage free waits up to maxWaitMs for others; a full batch goes at once', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const stage = (fs: readonly TestFrame[]) => cold('-(r|)', { r: ids(fs) }); // 1 ms
      // a at 0 waits for b (at 2) within 5 ms: the two go at 2 (full at maxSize 2), done at 3.
      expectObservable(cold('a-b-------|', items).pipe(newestBatches(stage, { drops: new DropCounter(), maxSize: 2, maxWaitMs: 5 })))
        .toBe('---r------|', { r: 'ab' });
      // a alone: goes when its wait is over (5 ms), done at 6.
      expectObservable(cold('a---------|', items).pipe(newestBatches(stage, { drops: new DropCounter(), maxSize: 2, maxWaitMs: 5 })))
        .toBe('------r---|', { r: 'a' });
    });
  });

  it('takes at most maxSize, oldest waiting first; the rest go next', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const stage = (fs: readonly TestFrame[]) => cold('---(r|)', { r: ids(fs) });
      // a runs 0–3; b, x wait; with maxSize 1 b goes 3–6, then x 6–9.
      expectObservable(cold('abx--------|', items).pipe(newestBatches(stage, { drops: new DropCounter(), maxSize: 1, maxWaitMs: 0 })))
        .toBe('---a--b--x-|', { a: 'a', b: 'b', x: 'x' });
    });
  });

  it('keeps memory bounded by the cameras: one waiting frame each however fast they come', async () => {
    const drops = new DropCounter();
    const src = new Subject<TestFrame>();
    const pending: Array<() => void> = [];
    const batches: string[][] = [];
    let discarded = 0;
    const stage = (fs: readonly TestFrame[]): Promise<number> => {
      batches.push(fs.map((f) => f.id));
      return new Promise((resolve) => pending.push(() => resolve(fs.length)));
    };
    src.pipe(newestBatches(stage, { drops, maxSize: 16, maxWaitMs: 0, discard: () => { discarded++; } })).subscribe();
    const n = 10_000, cameras = 10;
    for (let k = 0; k < n; k++) src.next(frame(`${k}`, `cam${k % cameras}`));
    // The first frame runs alone (the stage was free); of the rest only each camera's newest waits.
    expect(batches).toEqual([['0']]);
    expect(discarded).toBe(n - 1 - cameras);
    expect(drops.count()).toBe(n - 1 - cameras);
    pending.shift()!();
    await new Promise((r) => setTimeout(r, 0));
    // Cameras in the order they started waiting (cam1 first: cam0 was running), each with its newest frame.
    expect(batches[1]).toEqual([...Array.from({ length: cameras - 1 }, (_, i) => `${n - cameras + 1 + i}`), `${n - cameras}`]);
  });

  it('on completion runs what waits, then completes; on unsubscribe gives back what waits', async () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const stage = (fs: readonly TestFrame[]) => cold('--(r|)', { r: ids(fs) });
      expectObservable(cold('ab|', items).pipe(newestBatches(stage, { drops: new DropCounter(), maxSize: 4, maxWaitMs: 10 })))
        .toBe('----(r|)', { r: 'ab' });
    });
    const src = new Subject<TestFrame>();
    const discarded: string[] = [];
    const sub = src.pipe(newestBatches(() => new Promise<void>(() => {}), { drops: new DropCounter(), maxSize: 2, maxWaitMs: 0, discard: (f) => discarded.push(f.id) })).subscribe();
    for (const id of 'abx') src.next(items[id]!);
    sub.unsubscribe();
    expect(discarded).toEqual(['b', 'x']); // a was running
  });

  it('passes on an error of the stage, and refuses bad sizes and waits', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('a--', items).pipe(newestBatches(() => throwError(() => new Error('detector failed')), { drops: new DropCounter(), maxSize: 1, maxWaitMs: 0 })))
        .toBe('#', undefined, new Error('detector failed'));
    });
    expect(() => newestBatches(() => [1], { drops: new DropCounter(), maxSize: 0, maxWaitMs: 0 })).toThrow(RangeError);
    expect(() => newestBatches(() => [1], { drops: new DropCounter(), maxSize: 2, maxWaitMs: -1 })).toThrow(RangeError);
  });
});

import { Subject, throwError } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { Batch } from '../../src/pipeline/batchFrames.js';
import { DropCounter } from '../../src/pipeline/dropCounter.js';
import { latestWins } from '../../src/pipeline/latestWins.js';
import { frame, testScheduler, type TestFrame } from './helpers.js';

// Items a, c, e, g come from camera A; b, d, f, h from camera B.
const items = Object.fromEntries([...'abcdefgh'].map((id, k) => [id, frame(id, k % 2 === 0 ? 'A' : 'B')]));
const ids = Object.fromEntries([...'abcdefgh'].map((id) => [id, id]));

describe('latestWins', () => {
  it('runs one at a time; of the items that came while busy only the newest runs', () => {
    const drops = new DropCounter();
    testScheduler().run(({ cold, expectObservable }) => {
      const stage = (f: TestFrame) => cold('---(r|)', { r: f.id }); // takes 3 ms
      // a runs 0–3; b waits and c replaces it (b dropped); c runs 3–6.
      expectObservable(cold('abc-------|', items).pipe(latestWins(stage, { drops }))).toBe('---a--c---|', ids);
    });
    expect(drops.snapshot()).toEqual({ B: { fps: 0, 'batch-replaced': 0, busy: 1, failed: 0, late: 0, encoder: 0, 'slow-client': 0 } });
  });

  it('finishes what is in flight and waiting before it completes', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const stage = (f: TestFrame) => cold('---(r|)', { r: f.id });
      expectObservable(cold('ab|', items).pipe(latestWins(stage, { drops: new DropCounter() }))).toBe('---a--(b|)', ids);
    });
  });

  it('runs up to `concurrency` at once, one item waiting', () => {
    const drops = new DropCounter();
    testScheduler().run(({ cold, expectObservable }) => {
      const stage = (f: TestFrame) => cold('----(r|)', { r: f.id }); // 4 ms
      // a 0–4 and b 1–5 run; c waits, d replaces it; d runs 4–8.
      expectObservable(cold('abcd-------|', items).pipe(latestWins(stage, { drops, concurrency: 2 }))).toBe('----ab--d--|', ids);
    });
    expect(drops.count()).toBe(1);
    expect(drops.count('A', 'busy')).toBe(1);
  });

  it('with queue 2, a stall as long as two items loses none of them; a third waiting item pushes out the oldest', () => {
    const drops = new DropCounter();
    testScheduler().run(({ cold, expectObservable }) => {
      const stage = (f: TestFrame) => cold('---(r|)', { r: f.id }); // 3 ms
      // a runs 0–3; b and c wait and run 3–6, 6–9: nothing dropped (queue 1 keeps c alone).
      expectObservable(cold('abc--------|', items).pipe(latestWins(stage, { drops, queue: 2 }))).toBe('---a--b--c-|', ids);
      // a runs 0–3; b, c, d come while it runs: b is pushed out, c and d run in their order.
      expectObservable(cold('abcd-------|', items).pipe(latestWins(stage, { drops, queue: 2 }))).toBe('---a--c--d-|', ids);
    });
    expect(drops.count()).toBe(1);
    expect(drops.count('B', 'busy')).toBe(1);
  });

  it('with lanes and queue 2, a lane with two waiting gives one and goes to the back of the line', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const stage = (f: TestFrame) => cold('-----(r|)', { r: f.id }); // 5 ms
      // a (A) runs 0–5 while c (A), d (B) and e (A) come: A waits with [c, e], B with [d].
      // A gives c and goes behind B: c, d, e (lane A first for both would run c, e, d).
      expectObservable(cold('acde---|', items).pipe(latestWins(stage, { drops: new DropCounter(), queue: 2, laneOf: (f) => f.camera })))
        .toBe('-----a----c----d----(e|)', ids);
    });
  });

  it('with one waiting slot, an overloaded stage can starve a camera; a lane per camera serves both', () => {
    // A at 0, 6, 12, 18 and B at 1, 7, 13, 19; the stage takes 8 ms: about 2 items every 8 ms for 1.
    const src = 'ab----cd----ef----gh|';
    const single = new DropCounter();
    const laned = new DropCounter();
    testScheduler().run(({ cold, expectObservable }) => {
      const stage = (f: TestFrame) => cold('--------(r|)', { r: f.id });
      // One slot: whichever camera came last before each finish wins, here B every time after a.
      expectObservable(cold(src, items).pipe(latestWins(stage, { drops: single })))
        .toBe('--------a-------d-------f-------(h|)', ids);
      // Lanes: each camera keeps its newest item, served in the order the lanes started waiting.
      expectObservable(cold(src, items).pipe(latestWins(stage, { drops: laned, laneOf: (f) => f.camera })))
        .toBe('--------a-------d-------e-------h-------(g|)', ids);
    });
    expect([single.count('A'), single.count('B')]).toEqual([3, 1]);
    expect([laned.count('A'), laned.count('B')]).toEqual([1, 2]);
  });

  it('keeps memory bounded under a fast producer and a slow consumer: one waiting item per slot', async () => {
    for (const concurrency of [1, 3]) {
      const drops = new DropCounter();
      const src = new Subject<TestFrame>();
      const pending: Array<() => void> = [];
      const started: string[] = [];
      const out: string[] = [];
      const stage = (f: TestFrame): Promise<string> => {
        started.push(f.id);
        return new Promise((resolve) => pending.push(() => resolve(f.id)));
      };
      src.pipe(latestWins(stage, { drops, concurrency })).subscribe((r) => out.push(r));
      const n = 10_000;
      for (let k = 0; k < n; k++) src.next(frame(`${k}`, 'A'));
      // Every item is running, waiting (one) or already counted as dropped: nothing else is held.
      expect(started).toHaveLength(concurrency);
      expect(drops.count('A', 'busy')).toBe(n - concurrency - 1);
      for (const done of pending.splice(0)) done();
      await new Promise((r) => setTimeout(r, 0));
      expect(started.slice(concurrency)).toEqual([`${n - 1}`]);
      for (const done of pending.splice(0)) done();
      await new Promise((r) => setTimeout(r, 0));
      expect(out).toHaveLength(concurrency + 1);
      expect(out.at(-1)).toBe(`${n - 1}`);
    }
  });

  it('counts a dropped batch against each camera in it, with the reason given', () => {
    const drops = new DropCounter();
    const src = new Subject<Batch<TestFrame>>();
    const b = (...fs: TestFrame[]): Batch<TestFrame> => ({ key: '640x360', width: 640, height: 360, frames: fs, closedBy: 'full' });
    src.pipe(latestWins(() => new Promise<void>(() => {}), { drops, reason: 'slow-client' })).subscribe();
    src.next(b(frame('1', 'A')));
    src.next(b(frame('2', 'A'), frame('3', 'B')));
    src.next(b(frame('4', 'A')));
    expect(drops.snapshot()).toEqual({
      A: { fps: 0, 'batch-replaced': 0, busy: 0, failed: 0, late: 0, encoder: 0, 'slow-client': 1 },
      B: { fps: 0, 'batch-replaced': 0, busy: 0, failed: 0, late: 0, encoder: 0, 'slow-client': 1 },
    });
  });

  it('hands each item that will not run to `discard`: pushed out while busy, or still waiting at unsubscribe', () => {
    const src = new Subject<TestFrame>();
    const ran: string[] = [], discarded: string[] = [];
    const sub = src.pipe(latestWins((f: TestFrame) => { ran.push(f.id); return new Promise<void>(() => {}); }, { drops: new DropCounter(), queue: 2, discard: (f) => discarded.push(f.id) })).subscribe();
    for (const id of 'abcde') src.next(frame(id, 'A'));
    // a runs; b, c, d, e come while it does: b and c are pushed out, d and e wait.
    expect(ran).toEqual(['a']);
    expect(discarded).toEqual(['b', 'c']);
    sub.unsubscribe();
    expect(discarded).toEqual(['b', 'c', 'd', 'e']);
  });

  it('names the cameras of any item through camerasOf', () => {
    const drops = new DropCounter();
    const src = new Subject<number>();
    src.pipe(latestWins(() => new Promise<void>(() => {}), { drops, camerasOf: (n) => [`cam${n}`] })).subscribe();
    for (const n of [1, 2, 3]) src.next(n);
    expect(drops.count('cam2', 'busy')).toBe(1);
    // @ts-expect-error: a number names no camera, so camerasOf is required (checked by tsc)
    latestWins((n: number) => [n], { drops });
  });

  it('passes on an error of the stage', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const stage = () => throwError(() => new Error('inference failed'));
      expectObservable(cold('a--', items).pipe(latestWins(stage, { drops: new DropCounter() }))).toBe('#', undefined, new Error('inference failed'));
    });
    const src = new Subject<TestFrame>();
    const errors: unknown[] = [];
    src.pipe(latestWins(() => { throw new Error('sync'); }, { drops: new DropCounter() })).subscribe({ error: (e) => errors.push(e) });
    src.next(frame('x', 'A'));
    expect(errors).toHaveLength(1);
  });

  it('unsubscribes the running stage when unsubscribed', () => {
    testScheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const inner = cold('------(r|)', { r: 'x' });
      expectObservable(cold('a-b---', items).pipe(latestWins(() => inner, { drops: new DropCounter() })), '^---!').toBe('----');
      expectSubscriptions(inner.subscriptions).toBe('^---!');
    });
  });

  it('runs a stage that finishes synchronously without holding anything', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('abc|', items).pipe(latestWins((f) => [f.id], { drops: new DropCounter() }))).toBe('abc|', ids);
    });
  });

  it('refuses a concurrency or a queue that is not a positive integer', () => {
    expect(() => latestWins(() => [1], { drops: new DropCounter(), camerasOf: () => [], concurrency: 0 })).toThrow(RangeError);
    expect(() => latestWins(() => [1], { drops: new DropCounter(), camerasOf: () => [], queue: 0 })).toThrow(/queue/);
    expect(() => latestWins(() => [1], { drops: new DropCounter(), camerasOf: () => [], queue: 1.5 })).toThrow(/queue/);
  });
});

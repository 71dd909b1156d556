import { Subject } from 'rxjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { batchFrames, type Batch, type BatchClose } from '../../src/pipeline/batchFrames.js';
import { DropCounter } from '../../src/pipeline/dropCounter.js';
import { frame, testScheduler, type TestFrame } from './helpers.js';

const batch = (closedBy: BatchClose, ...frames: TestFrame[]): Batch<TestFrame> =>
  ({ key: `${frames[0]!.width}x${frames[0]!.height}`, width: frames[0]!.width, height: frames[0]!.height, frames, closedBy });

// Cameras a, b, c at 640×360; H at 1280×720.
const a1 = frame('a1', 'a');
const a2 = frame('a2', 'a');
const b1 = frame('b1', 'b');
const c1 = frame('c1', 'c');
const H1 = frame('H1', 'h', 0, 1280, 720);

describe('batchFrames', () => {
  afterEach(() => { vi.useRealTimers(); });

  it('sends a batch as soon as it is full', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('a-b-c|', { a: a1, b: b1, c: c1 }).pipe(batchFrames({ maxSize: 2, maxWaitMs: 10 })))
        .toBe('--x--(y|)', { x: batch('full', a1, b1), y: batch('complete', c1) });
    });
  });

  it('sends a batch that is not full when its oldest frame has waited maxWaitMs', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      // a at 0, b at 3: the deadline is 0 + 5, not 3 + 5.
      expectObservable(cold('a--b------|', { a: a1, b: b1 }).pipe(batchFrames({ maxSize: 3, maxWaitMs: 5 })))
        .toBe('-----x----|', { x: batch('timeout', a1, b1) });
    });
  });

  it('starts the next batch\'s deadline with its own first frame', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('a-----b------|', { a: a1, b: b1 }).pipe(batchFrames({ maxSize: 4, maxWaitMs: 3 })))
        .toBe('---x-----y---|', { x: batch('timeout', a1), y: batch('timeout', b1) });
    });
  });

  it('puts frames of different sizes in different batches', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('aHb|', { a: a1, H: H1, b: b1 }).pipe(batchFrames({ maxSize: 2, maxWaitMs: 10 })))
        .toBe('--x(y|)', { x: batch('full', a1, b1), y: batch('complete', H1) });
    });
  });

  it('splits further by groupBy, and the key names the group', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      const m = (f: TestFrame): string => (f.camera === 'b' ? 'night.onnx' : 'pie.onnx');
      expectObservable(cold('abc|', { a: a1, b: b1, c: c1 }).pipe(batchFrames({ maxSize: 2, maxWaitMs: 10, groupBy: m })))
        .toBe('--x(y|)', {
          x: { ...batch('full', a1, c1), key: '640x360|pie.onnx' },
          y: { ...batch('complete', b1), key: '640x360|night.onnx' },
        });
    });
  });

  it('closes the open batch when a second frame of one of its cameras comes (default), losing nothing', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('ab-A-----|', { a: a1, b: b1, A: a2 }).pipe(batchFrames({ maxSize: 3, maxWaitMs: 5 })))
        .toBe('---x----y|', { x: batch('same-camera', a1, b1), y: batch('timeout', a2) });
    });
  });

  it('with sameCamera replace, the newer frame takes the older one\'s place and the older is counted', () => {
    const drops = new DropCounter();
    testScheduler().run(({ cold, expectObservable }) => {
      const src = cold('ab-A-----|', { a: a1, b: b1, A: a2 });
      // The deadline stays the batch's first frame's (0 + 5) though that frame was replaced.
      expectObservable(src.pipe(batchFrames({ maxSize: 3, maxWaitMs: 5, sameCamera: 'replace', drops })))
        .toBe('-----x---|', { x: batch('timeout', a2, b1) });
    });
    expect(drops.snapshot()).toEqual({ a: { fps: 0, 'batch-replaced': 1, busy: 0, failed: 0, late: 0, encoder: 0, 'slow-client': 0 } });
  });

  it('counts replaced frames per camera', () => {
    const drops = new DropCounter();
    const src = new Subject<TestFrame>();
    const out: Batch<TestFrame>[] = [];
    src.pipe(batchFrames({ maxSize: 3, maxWaitMs: 1000, sameCamera: 'replace', drops })).subscribe((b) => out.push(b));
    for (let k = 0; k < 5; k++) src.next(frame(`a${k}`, 'a'));
    src.next(b1);
    src.complete();
    expect(out).toEqual([batch('complete', frame('a4', 'a'), b1)]);
    expect(drops.count('a', 'batch-replaced')).toBe(4);
    expect(drops.count('b')).toBe(0);
  });

  it('flushes every open batch, oldest first, when the source completes', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('aH|', { a: a1, H: H1 }).pipe(batchFrames({ maxSize: 4, maxWaitMs: 50 })))
        .toBe('--(xy|)', { x: batch('complete', a1), y: batch('complete', H1) });
    });
  });

  it('sends each frame at once with maxSize 1', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('aA|', { a: a1, A: a2 }).pipe(batchFrames({ maxSize: 1, maxWaitMs: 50 })))
        .toBe('xy|', { x: batch('full', a1), y: batch('full', a2) });
    });
  });

  it('passes an error on and discards open batches', () => {
    testScheduler().run(({ cold, expectObservable }) => {
      expectObservable(cold('a-#', { a: a1 }).pipe(batchFrames({ maxSize: 4, maxWaitMs: 5 }))).toBe('--#');
    });
  });

  it('cancels its timers when unsubscribed', () => {
    vi.useFakeTimers();
    const src = new Subject<TestFrame>();
    const seen: Batch<TestFrame>[] = [];
    const sub = src.pipe(batchFrames({ maxSize: 4, maxWaitMs: 100 })).subscribe((b) => seen.push(b));
    src.next(a1);
    src.next(H1);
    expect(vi.getTimerCount()).toBe(2);
    sub.unsubscribe();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(1000);
    expect(seen).toEqual([]);
  });

  it('cancels the timer of a batch that leaves before its deadline', () => {
    vi.useFakeTimers();
    const src = new Subject<TestFrame>();
    src.pipe(batchFrames({ maxSize: 2, maxWaitMs: 100 })).subscribe();
    src.next(a1);
    expect(vi.getTimerCount()).toBe(1);
    src.next(b1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('stops at once when the consumer leaves while taking a batch', () => {
    vi.useFakeTimers();
    const src = new Subject<TestFrame>();
    const seen: Batch<TestFrame>[] = [];
    const sub = src.pipe(batchFrames({ maxSize: 4, maxWaitMs: 100 })).subscribe((b) => { seen.push(b); sub.unsubscribe(); });
    src.next(a1);
    src.next(a2); // closes [a1]; the consumer unsubscribes inside next
    expect(seen).toEqual([batch('same-camera', a1)]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('refuses sizes and waits that make no sense', () => {
    expect(() => batchFrames({ maxSize: 0, maxWaitMs: 5 })).toThrow(RangeError);
    expect(() => batchFrames({ maxSize: 1.5, maxWaitMs: 5 })).toThrow(RangeError);
    expect(() => batchFrames({ maxSize: 2, maxWaitMs: -1 })).toThrow(RangeError);
  });
});

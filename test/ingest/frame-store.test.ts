// The frame store: shared slots reused once nothing reaches them, bounded, with counted buffers past the bound.
import v8 from 'node:v8';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { defaultSlots, FrameStore, frameStore, releaseFrame, retainFrame } from '../../src/ingest/frame-store.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
/** A full collection, then a turn of the event loop for the finalization callbacks. */
const collect = async (): Promise<void> => {
  gc();
  await new Promise((r) => setTimeout(r, 20));
  gc();
  await new Promise((r) => setTimeout(r, 20));
};

describe('FrameStore', () => {
  it('gives shared buffers of its size, and ordinary ones past its bound (counted)', () => {
    const store = new FrameStore(12, 2);
    const a = store.take(), b = store.take(), c = store.take();
    expect([a.length, b.length, c.length]).toEqual([12, 12, 12]);
    expect(a.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(b.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(c.buffer).toBeInstanceOf(ArrayBuffer); // the bound: two slots
    expect(store.stats()).toMatchObject({ slots: 2, free: 0, taken: 3, fallbacks: 1 });
    a[0] = 1;
    expect(b[0]).toBe(0); // separate memory
  });

  it('reuses a slot once nothing reaches its buffer, and never while something does', async () => {
    const store = new FrameStore(16, 2);
    let dropped: Uint8Array | null = store.take();
    dropped.fill(7);
    const kept = store.take();
    kept.fill(9);
    const view = kept.subarray(4, 8); // a view alone keeps the slot too
    const buf = Buffer.from(kept.buffer, kept.byteOffset, kept.byteLength);
    dropped = null;
    await collect();
    expect(store.stats()).toMatchObject({ slots: 2, free: 1 });
    const again = store.take();
    expect(again.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(Array.from(again)).toEqual(new Array(16).fill(7)); // the collected slot's memory, stale until written
    again.fill(1);
    expect(Array.from(view)).toEqual([9, 9, 9, 9]);
    expect(buf[0]).toBe(9);
    expect(store.take().buffer).toBeInstanceOf(ArrayBuffer); // still bound: both slots are reachable
  });

  it('takes a slot back at once on release(), and ignores what is not its own', () => {
    const store = new FrameStore(8, 1);
    const a = store.take();
    a.fill(5);
    store.release(a);
    store.release(a); // twice: ignored
    store.release(new Uint8Array(8)); // not a slot: ignored
    expect(store.stats()).toMatchObject({ slots: 1, free: 1, released: 1 });
    const b = store.take();
    expect(b.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(b[0]).toBe(5); // the same slot
    expect(store.stats()).toMatchObject({ slots: 1, free: 0, fallbacks: 0 });
  });

  it('counts holders: retain() adds one, the slot comes back at the last release(), and a holder that never releases leaves it to the collector', async () => {
    const store = new FrameStore(8, 1);
    let a: Uint8Array | null = store.take(); // the taker's reference
    a.fill(7);
    store.retain(a); // a second holder
    store.release(a);
    expect(store.stats()).toMatchObject({ free: 0, released: 0 }); // one holder left: not reusable
    expect(store.take().buffer).not.toBeInstanceOf(SharedArrayBuffer); // so the next take falls back
    store.release(a);
    expect(store.stats()).toMatchObject({ free: 1, released: 1 });
    store.retain(a); // after the last release: not the store's any more, ignored
    expect(store.stats()).toMatchObject({ free: 1 });
    const b = store.take();
    expect(b[0]).toBe(7); // the same slot, handed out again
    store.retain(b);
    store.release(b); // one of two: still held
    a = null;
    await collect();
    expect(store.stats()).toMatchObject({ free: 0 }); // b is still reachable (used below)
    expect(b[0]).toBe(7);
  });

  it('retainFrame and releaseFrame find the store by size, and ignore buffers of no store', () => {
    const store = frameStore(24);
    const a = store.take();
    retainFrame(a);
    releaseFrame(a);
    expect(store.stats().free).toBe(0);
    releaseFrame(a);
    expect(store.stats().free).toBe(1);
    expect(() => { retainFrame(new Uint8Array(24)); releaseFrame(new Uint8Array(23)); }).not.toThrow();
  });

  it('copies frames of its size only', () => {
    const store = new FrameStore(6, 4);
    expect(Array.from(store.copy(Uint8Array.from([1, 2, 3, 4, 5, 6])))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(() => store.copy(new Uint8Array(5))).toThrow(/5-byte frame in a 6-byte store/);
    expect(() => new FrameStore(0, 1)).toThrow(RangeError);
  });

  it('bounds every size by memory: about 256 MiB of slots, 8 to 256 of them', () => {
    expect(defaultSlots(640 * 360 * 3)).toBe(256);
    expect(defaultSlots(1280 * 720 * 3)).toBe(97);
    expect(defaultSlots(1920 * 1080 * 3)).toBe(43);
    expect(defaultSlots(7680 * 4320 * 3)).toBe(8);
  });
});

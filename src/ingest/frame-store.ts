// Frame buffers that do not wake the main thread's garbage collector. V8 counts every ArrayBuffer's
// bytes as "external memory" and, past a limit, starts a full mark-compact of the whole heap: a
// fresh 2.7 MB buffer per 720p frame (and per worker result, and per 64 kB pipe read) made the main
// thread collect ~10 times a second, 6–48 ms each (bench/pipeline's `gc:` figure). SharedArrayBuffer
// memory is not counted per isolate, so frames live in SharedArrayBuffer slots instead, reused:
// a slot goes back to the store when the last JavaScript object over it is collected
// (FinalizationRegistry on a per-use handle), so no stage has to say when it is done with a frame.
//
// Bounded: at most `maxSlots` slots; past that, take() hands out an ordinary buffer (counted in
// `fallbacks`), whose counted memory makes V8 collect, which returns slots. A slot is never reused
// while any view, Buffer or stream write over its handle is reachable. A handle posted to a worker
// is not seen here: a caller that shares one with a worker keeps its own view reachable until the
// worker is done with it (src/workers/pool.ts holds a request's frames until it settles).
//
// Waiting for the collector is slow where the main thread makes little garbage: at 720p ×4 cameras
// half the takes fell back, and each fallback's counted memory cost a full collection. So a slot
// also comes back at once when its last holder says it is done: take() gives the taker one
// reference; retainFrame() adds one, releaseFrame() removes one, and at zero the slot is free. A
// holder that never releases just leaves the slot to the collector, as before; a holder that keeps
// a buffer without retaining it, where its owner releases, would see later frames' bytes: so only
// a producer whose every consumer retains what it keeps releases (CameraSource's releaseDelivered).

export interface FrameStoreStats {
  /** Slots allocated so far (≤ maxSlots). */
  readonly slots: number;
  /** Slots free for the next take(). */
  readonly free: number;
  readonly taken: number;
  /** take()s served by an ordinary buffer (takeShared()s by none): every slot was still in use. */
  readonly fallbacks: number;
  /** Slots given back by their last release() rather than by the collector. */
  readonly released: number;
}

export class FrameStore {
  private readonly free: SharedArrayBuffer[] = [];
  /** Handles given out, to their slots and holders: what retain() and release() need (weak: a collected handle needs nothing). */
  private readonly slotOf = new WeakMap<SharedArrayBuffer, { readonly slot: SharedArrayBuffer; refs: number }>();
  private slots = 0;
  private taken = 0;
  private fallbacks = 0;
  private released = 0;
  // The held value (the store's own handle) keeps the slot's memory; the target is the handle given out.
  private readonly registry = new FinalizationRegistry<SharedArrayBuffer>((slot) => { this.free.push(slot); });

  constructor(readonly bytes: number, readonly maxSlots: number) {
    if (!(Number.isInteger(bytes) && bytes > 0)) throw new RangeError(`FrameStore: bytes must be a positive integer, got ${bytes}`);
    if (!(Number.isInteger(maxSlots) && maxSlots >= 0)) throw new RangeError(`FrameStore: maxSlots must be a whole number, got ${maxSlots}`);
  }

  /** A zeroed-or-stale buffer of `bytes` (its content is whatever the slot last held: overwrite it all); the caller holds its one reference. */
  take(): Uint8Array {
    return this.takeShared() ?? new Uint8Array(this.bytes);
  }

  /** As take(), but null rather than an ordinary buffer when every slot is in use (for a caller that only has use for shared memory). */
  takeShared(): Uint8Array | null {
    this.taken++;
    let slot = this.free.pop();
    if (!slot && this.slots < this.maxSlots) {
      slot = new SharedArrayBuffer(this.bytes);
      this.slots++;
    }
    if (!slot) {
      this.fallbacks++;
      return null;
    }
    // A new handle over the same memory (structuredClone shares a SharedArrayBuffer): its collection is the signal.
    const handle = structuredClone(slot);
    this.registry.register(handle, slot, handle);
    this.slotOf.set(handle, { slot, refs: 1 });
    return new Uint8Array(handle);
  }

  /** Whether `buf` is a taken slot of this store (one that retain() counts). */
  holds(buf: Uint8Array): boolean {
    return buf.buffer instanceof SharedArrayBuffer && buf.length === this.bytes && this.slotOf.has(buf.buffer);
  }

  /** One more holder of a taken buffer, who will release() it. A buffer not from this store (or already given back) is ignored. */
  retain(buf: Uint8Array): void {
    const e = buf.buffer instanceof SharedArrayBuffer ? this.slotOf.get(buf.buffer) : undefined;
    if (e) e.refs++;
  }

  /**
   * One holder is done with a taken buffer; after the last, its slot goes back now instead of when
   * it is collected. Anything still holding it without a reference would see the next frame's
   * bytes. A buffer not from this store (or already given back) is ignored.
   */
  release(buf: Uint8Array): void {
    const handle = buf.buffer;
    if (!(handle instanceof SharedArrayBuffer)) return;
    const e = this.slotOf.get(handle);
    if (!e || --e.refs > 0) return;
    this.slotOf.delete(handle);
    this.registry.unregister(handle);
    this.free.push(e.slot);
    this.released++;
  }

  /** A copy of `src` (bytes long) in a buffer of this store. */
  copy(src: Uint8Array): Uint8Array {
    if (src.length !== this.bytes) throw new RangeError(`FrameStore: a ${src.length}-byte frame in a ${this.bytes}-byte store`);
    const out = this.take();
    out.set(src);
    return out;
  }

  stats(): FrameStoreStats {
    return { slots: this.slots, free: this.free.length, taken: this.taken, fallbacks: this.fallbacks, released: this.released };
  }
}

/**
 * Slots for frames of `bytes`: about 256 MiB of them, never fewer than 8 nor more than 256 (360p:
 * 256, 720p: 97, 1080p: 43). A slot comes back when the collector finds its handle unreachable,
 * which on a main thread that makes little garbage takes seconds; meanwhile the store runs dry and
 * gives counted buffers, whose count makes V8 collect. More slots: fewer collections, more memory.
 */
export const defaultSlots = (bytes: number): number => Math.max(8, Math.min(256, Math.floor((256 * 2 ** 20) / bytes)));

/**
 * One store per frame size, shared by whatever makes frames of that size on this thread (cameras of
 * one size, worker results); created on first use, bounded as above.
 */
const stores = new Map<number, FrameStore>();
export function frameStore(bytes: number): FrameStore {
  let s = stores.get(bytes);
  if (!s) {
    s = new FrameStore(bytes, defaultSlots(bytes));
    stores.set(bytes, s);
  }
  return s;
}

/** retain() on the store that gave out `buf` (by its size); nothing for a buffer from no store. */
export function retainFrame(buf: Uint8Array): void {
  stores.get(buf.length)?.retain(buf);
}

/** release() on the store that gave out `buf`; nothing for a buffer from no store. */
export function releaseFrame(buf: Uint8Array): void {
  stores.get(buf.length)?.release(buf);
}

/** Every store of this thread, for /metrics and the benchmarks. */
export const frameStores = (): ReadonlyMap<number, FrameStore> => stores;

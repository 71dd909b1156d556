// The one way the pipeline counts what it throws away: every operator that drops a frame reports it
// here, per camera and per reason, so a drop is never silent (Frigate's skipped_fps) and metrics can
// read the totals. Counting observes; it never steers the pipeline.

export const DROP_REASONS = ['fps', 'batch-replaced', 'busy', 'failed', 'late', 'encoder', 'slow-client'] as const;
/**
 * fps: above the camera's processing rate (sampleFps). batch-replaced: a newer frame of the same
 * camera took its place in a batch (batchFrames). busy: a newer item arrived while a stage was busy
 * (latestWins), or every inference worker was full. failed: its inference worker died, timed out or
 * threw. late: enhanced after a newer frame of its camera (two workers finished out of order;
 * inOrder). encoder: an encoder's input had not drained. slow-client: a viewer could not keep up.
 */
export type DropReason = (typeof DROP_REASONS)[number];

/** Where operators report drops. One method, so an object literal or a test spy will do. */
export interface DropSink {
  drop(camera: string, reason: DropReason, count?: number): void;
}

export interface DropEvent {
  readonly camera: string;
  readonly reason: DropReason;
  readonly count: number;
}

export type DropCounts = Readonly<Record<DropReason, number>>;

const zeroCounts = (): Record<DropReason, number> => ({ fps: 0, 'batch-replaced': 0, busy: 0, failed: 0, late: 0, encoder: 0, 'slow-client': 0 });

export class DropCounter implements DropSink {
  private readonly byCamera = new Map<string, Record<DropReason, number>>();
  private readonly listeners = new Set<(e: DropEvent) => void>();

  /** `onListenerError` hears what a listener threw; by default it is ignored (a metric must not break the pipeline). */
  constructor(private readonly onListenerError: (e: unknown) => void = () => {}) {}

  drop(camera: string, reason: DropReason, count = 1): void {
    if (!(count > 0)) return;
    let c = this.byCamera.get(camera);
    if (!c) this.byCamera.set(camera, (c = zeroCounts()));
    c[reason] += count;
    const e: DropEvent = { camera, reason, count };
    for (const l of this.listeners) {
      // A listener's error must not reach the operator that reported the drop.
      try { l(e); } catch (err) { try { this.onListenerError(err); } catch { /* nothing more to do */ } }
    }
  }

  /** Drops so far: of one camera and/or one reason, or all. */
  count(camera?: string, reason?: DropReason): number {
    let n = 0;
    for (const [cam, c] of this.byCamera) {
      if (camera !== undefined && cam !== camera) continue;
      for (const r of DROP_REASONS) if (reason === undefined || r === reason) n += c[r];
    }
    return n;
  }

  /** A copy of every camera's counts (cameras that never dropped are absent). */
  snapshot(): Record<string, DropCounts> {
    const out: Record<string, DropCounts> = {};
    for (const [cam, c] of this.byCamera) out[cam] = { ...c };
    return out;
  }

  /** Hears every drop as it happens; returns the unsubscribe function. */
  onDrop(listener: (e: DropEvent) => void): () => void {
    this.listeners.add(listener);
    return () => { this.listeners.delete(listener); };
  }
}

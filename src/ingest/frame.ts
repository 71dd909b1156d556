// The record the live pipeline passes from ingest onwards: one decoded camera frame. Readonly by
// type so stages share one buffer without copying; a stage that changes pixels makes a new Frame.

export interface Frame {
  /** The camera's configured name (never its URL: URLs may carry credentials). */
  readonly camera: string;
  /**
   * Per-camera frame number from 0, increasing by one per delivered frame. It keeps counting
   * across ffmpeg restarts, so a gap-free seq means no frame was lost inside pie-stream.
   */
  readonly seq: number;
  /**
   * When the frame was read from the decoder, in ms since the Unix epoch on a monotonic clock
   * (performance.timeOrigin + performance.now()). A raw pipe carries no stream timestamps, and a
   * wall-clock time stays ordered across restarts and comparable across cameras (batching, latency).
   */
  readonly ptsMs: number;
  readonly width: number;
  readonly height: number;
  /** Packed RGB24, row-major, no padding: width × height × 3 bytes. */
  readonly data: Uint8Array;
}

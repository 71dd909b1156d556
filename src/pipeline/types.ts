// What the pipeline operators need of a frame. Structural, so the operators work on the real Frame
// (src/ingest/frame.ts) and on tiny test records alike without depending on ingest.

export interface FrameLike {
  /** The camera's configured name. */
  readonly camera: string;
  /** Capture time in ms; increasing per camera. */
  readonly ptsMs: number;
  /** The camera's frame counter; increasing per camera, across its ffmpeg restarts. */
  readonly seq: number;
  readonly width: number;
  readonly height: number;
}

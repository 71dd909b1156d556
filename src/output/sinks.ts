// What the live path writes frames into: an output of one camera and variant (an HLS encoder, a
// live WebSocket stream), and the factory the app gets them from (injected, so tests can record).
import type { WebSocket } from 'ws';
import type { CameraConfig, Variant } from '../config/schema.js';
import type { FaceEventJson } from '../detect/event.js';
import type { Frame } from '../ingest/frame.js';
import type { DropSink } from '../pipeline/dropCounter.js';

/**
 * Where frames of one camera and variant go. write() never blocks; false = the frame was refused
 * (counted). A sink that keeps a frame's pixels past write() retainFrame()s them and releaseFrame()s
 * them when done (src/ingest/frame-store.ts): the camera reuses the buffer once every holder has.
 */
export interface FrameSink {
  write(frame: Frame): boolean | void;
  /** Settles when the output has flushed and stopped; its value is not used. */
  close(): Promise<unknown>;
}
export interface LiveSink extends FrameSink {
  attach(ws: WebSocket): void;
  /** Viewers now connected, for /metrics (JsmpegStream has it). */
  stats?(): { readonly clients: number };
}

/** Makes the outputs; injected so the app can be tested with or without encoders. */
export interface SinkFactory {
  hls(camera: CameraConfig, variant: Variant, dir: string, drops: DropSink): Promise<FrameSink>;
  live(camera: CameraConfig, variant: Variant, drops: DropSink): Promise<LiveSink>;
}

/** Where face events go besides the viewers and MQTT (the cluster's bus). publish() never blocks. */
export interface FaceEventSink {
  publish(e: FaceEventJson): void;
}

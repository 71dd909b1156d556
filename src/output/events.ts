// Detection events to viewers: what a face detector found on one frame of one camera, sent as JSON
// text messages over WebSocket (/ws/<camera>/events for one camera, /ws/events for all). Coordinates
// are pixels of the camera's processing size (/api/cameras gives width and height), so a viewer
// scales them to whatever size it draws at. Bounded like the video streams: a viewer whose socket
// is backed up misses events (counted), nobody queues for it.
import { WebSocket } from 'ws';
import { z } from 'zod';

const finite = z.number().finite();

export const pointSchema = z.strictObject({ x: finite, y: finite });

export const faceSchema = z.strictObject({
  /** Top-left corner and size, frame pixels. */
  box: z.strictObject({ x: finite, y: finite, width: finite.nonnegative(), height: finite.nonnegative() }),
  /** Confidence in [0, 1]. */
  score: z.number().min(0).max(1),
  /** BlazeFace's six points (src/detect/types.ts KEYPOINT_NAMES order); may be empty. */
  keypoints: z.array(pointSchema).max(32),
});

export const detectionEventSchema = z.strictObject({
  camera: z.string().min(1),
  /** The frame's seq (src/ingest/frame.ts). */
  seq: z.number().int().nonnegative(),
  /** The frame's time, ms since the Unix epoch. */
  ts: finite,
  /** Every face found; empty when the frame was searched and none was found. */
  faces: z.array(faceSchema).max(256),
});
export type DetectionEvent = z.infer<typeof detectionEventSchema>;

export interface EventHubStats {
  readonly clients: number;
  readonly published: number;
  /** Messages not sent to a client because its socket was backed up. */
  readonly dropped: number;
}

interface Subscriber {
  /** null = every camera. */
  readonly camera: string | null;
}

export class EventHub {
  private readonly clients = new Map<WebSocket, Subscriber>();
  private published = 0;
  private dropped = 0;

  constructor(private readonly maxBufferedBytes = 256 * 1024) {}

  /** Validates and sends to every subscriber of the event's camera. Throws a TypeError naming what is wrong. */
  publish(event: DetectionEvent): void {
    const r = detectionEventSchema.safeParse(event);
    if (!r.success) {
      throw new TypeError(`invalid detection event: ${r.error.issues.map((i) => `${i.path.join('.') || '(event)'}: ${i.message}`).join('; ')}`);
    }
    this.published++;
    const text = JSON.stringify(r.data);
    for (const [ws, s] of this.clients) {
      if (s.camera !== null && s.camera !== event.camera) continue;
      if (ws.readyState !== WebSocket.OPEN) continue;
      if (ws.bufferedAmount > this.maxBufferedBytes) { this.dropped++; continue; }
      ws.send(text);
    }
  }

  /** Takes an upgraded WebSocket; it receives events until either side closes. Messages from it are ignored. */
  attach(ws: WebSocket, camera: string | null): void {
    this.clients.set(ws, { camera });
    const forget = (): void => { this.clients.delete(ws); };
    ws.once('close', forget);
    ws.on('error', forget);
  }

  stats(): EventHubStats {
    return { clients: this.clients.size, published: this.published, dropped: this.dropped };
  }

  close(): void {
    for (const ws of this.clients.keys()) ws.close(1001, 'server closing');
    this.clients.clear();
  }
}

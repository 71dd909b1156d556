// The detection stage of the live path (present when detect.enabled): enhanced frames are sampled
// at detect.fps per camera and detected on in a detection worker (src/workers/pool.ts), apart from
// the enhancement workers, so a slow detector costs counted detection drops, never a stream's
// frames. Events go to the viewers and MQTT; the newest detection is kept for snapshots and boxes.
import { retry, timer, type OperatorFunction } from 'rxjs';
import type { BatchConfig, DetectConfig } from '../config/schema.js';
import type { ProviderChoice } from '../enhance/session.js';
import { messageOf } from '../errors.js';
import type { CameraRuntime } from '../ingest/camera-runtime.js';
import type { Frame } from '../ingest/frame.js';
import { releaseFrame, retainFrame } from '../ingest/frame-store.js';
import { redact } from '../ingest/redact.js';
import { plainFrame, type EnhancedFrame } from '../enhance/live-enhancers.js';
import type { DetectionEvent } from '../output/events.js';
import type { MqttFacePublisher } from '../output/mqtt.js';
import type { FaceEventSink } from '../output/sinks.js';
import { LatencyWindow } from '../output/rate.js';
import { confirmFaces } from '../pipeline/confirmFaces.js';
import { detectAt } from '../pipeline/detect.js';
import { DropCounter } from '../pipeline/dropCounter.js';
import type { Inference } from '../workers/pool.js';
import { isWorkerError, type SessionInfo } from '../workers/protocol.js';
import { drawFaces } from './draw.js';
import { outsideMask } from './face-mask.js';
import { faceEventJson } from './event.js';
import type { Face, FaceEvent } from './types.js';

const DETECTOR_KEY = 'detector';

/** Sends an event to the viewers (and counts it): PieApp.publishEvent. */
export type PublishEvent = (camera: string, event: Omit<DetectionEvent, 'camera'>) => void;

export class LiveDetection {
  /** Frames the detector skipped (fps, busy, failed), apart from the camera drops: the streams did get those frames. */
  readonly drops = new DropCounter();
  readonly inference = new LatencyWindow();
  runs = 0;
  private lastFailure = '';

  private constructor(
    readonly config: DetectConfig,
    private readonly pool: Inference,
    readonly session: SessionInfo,
    private readonly cameras: ReadonlyMap<string, CameraRuntime>,
    private readonly log: (line: string) => void,
  ) {}

  /** Face events to a broker too (set once the server runs; mqtt: in the config). */
  mqtt: MqttFacePublisher | undefined;
  /** Face events to the cluster's bus too (cluster mode: pie-stream.<camera>.faces). */
  bus: FaceEventSink | undefined;

  static async open(pool: Inference, config: DetectConfig, provider: ProviderChoice, cameras: ReadonlyMap<string, CameraRuntime>, log: (line: string) => void): Promise<LiveDetection> {
    // One detector for every camera: detectAt batches their frames into shared model runs.
    const session = await pool.open(DETECTOR_KEY, { kind: 'detector', options: { model: config.model, scoreThreshold: config.threshold, pose: config.pose, minFace: config.minFace, provider, ...(config.tiling ? (config.upscale > 1 ? { tiling: { upscale: config.upscale } } : {}) : { tiling: false }) } });
    log(`face detection on ${config.on} frames at ${config.fps} fps${config.pose === 'frontal' ? ', frontal faces only' : ''}${config.minFace > 0 ? `, faces of ${config.minFace} px and more` : ''}${config.tiling ? `, tiled${config.upscale > 1 ? ` (+ ${config.upscale}× upscaled tiles)` : ''}` : ''}${config.confirm.frames > 0 && config.confirm.hits > 1 ? `, faces confirmed in ${config.confirm.hits} of ${config.confirm.frames} detections` : ''}${config.confirm.fixtureAfter > 0 ? `, fixtures after ${config.confirm.fixtureAfter}` : ''}${config.confirm.staticAfter > 0 ? `, none on a view still for ${config.confirm.staticAfter} s` : ''}: ${session.description} (${pool.o.size} ${pool.o.name} worker${pool.o.size > 1 ? 's' : ''})`);
    return new LiveDetection(config, pool, session, cameras, log);
  }

  /**
   * Enhanced frames → face events, sampled and batched, each face confirmed over the camera's recent
   * detections (detect.confirm); a failing detector restarts this side alone.
   */
  events(batch: BatchConfig): OperatorFunction<EnhancedFrame, FaceEvent> {
    return (frames$) => frames$.pipe(
      // The enhancer's batching settings serve here too: sampled frames of several cameras share a detector call.
      // Each frame's pixels and its `raw` are held for the detector (app.ts): given back once detectAt is done with the frame.
      detectAt(this.config.fps, (frames: readonly EnhancedFrame[]) => this.detect(frames), { drops: this.drops, batch, discard: (f) => { releaseFrame(f.data); releaseFrame(f.raw); } }),
      retry({
        resetOnSuccess: true,
        delay: (e: unknown, n: number) => {
          const waitMs = Math.min(60_000, 1000 * 2 ** (n - 1));
          this.log(redact(`face detection failed (${messageOf(e)}); again in ${waitMs / 1000} s`));
          return timer(waitMs);
        },
      }),
      // After the retry, so a restarted detector keeps each camera's recent sightings.
      confirmFaces(this.config.confirm),
    );
  }

  /** One detector call on frames of several cameras, along the configured path (raw, enhanced or fused); null when the worker could not take them. */
  private async detect(frames: readonly EnhancedFrame[]): Promise<Face[][] | null> {
    const t0 = performance.now();
    let faces: Face[][];
    try {
      const afterS = this.config.confirm.staticAfter;
      // Each camera's still-scene model lives in the detection worker, fed the raw frames it detects on.
      const still = afterS > 0 ? { cameras: frames.map((f) => f.camera), ms: frames.map((f) => f.ptsMs), options: { afterS } } : undefined;
      faces = await this.pool.detect(DETECTOR_KEY, frames.map((f) => ({ raw: { width: f.width, height: f.height, data: f.raw }, enhanced: f })), { on: this.config.on }, still);
    } catch (e) {
      if (!isWorkerError(e)) throw e;
      const reason = e.kind === 'busy' ? 'busy' : 'failed';
      for (const f of frames) this.drops.drop(f.camera, reason);
      const line = `face detection of ${frames.length} frame(s) dropped (${reason}): ${e.message}`;
      if (reason === 'failed' && line !== this.lastFailure) this.log(line);
      this.lastFailure = line;
      return null;
    }
    this.runs++;
    this.inference.add(performance.now() - t0);
    // Masked parts of a view report nothing: before confirmation, so a masked face confirms nothing either.
    faces = faces.map((fs, i) => outsideMask(fs, frames[i]!.width, frames[i]!.height, this.cameras.get(frames[i]!.camera)?.config.faceMask));
    // Their events come out of detectAt next; onFaces takes the frame back for the snapshot.
    for (const f of frames) {
      retainFrame(f.data); // until its event is out (onFaces), for the faces snapshot
      this.cameras.get(f.camera)!.detecting.set(f.seq, plainFrame(f));
    }
    return faces;
  }

  /** A detection: to MQTT and the camera's latest snapshot and boxes; `publish` sends it to the viewers. */
  onFaces(e: FaceEvent, publish: PublishEvent): void {
    const c = this.cameras.get(e.camera)!;
    const frame = c.detecting.get(e.seq);
    const json = faceEventJson(e);
    const hadFaces = (c.lastDetection?.faces.length ?? 0) > 0;
    c.lastDetection = e;
    if (e.faces.length > 0 && frame) {
      retainFrame(frame.data); // the snapshot's, until a newer one with faces
      if (c.faces) releaseFrame(c.faces.frame.data);
      c.faces = { event: json, faces: e.faces, frame };
    }
    // Older entries too: a retry between a call and its events would otherwise leave them behind.
    for (const [seq, f] of c.detecting) {
      if (seq > e.seq) continue;
      c.detecting.delete(seq);
      releaseFrame(f.data);
    }
    // MQTT gets frames with faces and the first empty one after them (it clears a consumer's boxes):
    // an empty event for every detected frame would be 5 messages a second per camera of nothing.
    if (e.faces.length > 0 || hadFaces) {
      this.mqtt?.publish(e);
      this.bus?.publish(json);
    }
    publish(e.camera, { seq: json.seq, ts: json.ts, faces: json.faces.map((f) => ({ ...f, keypoints: [...f.keypoints] })) });
  }

  /**
   * With detect.drawBoxes, the camera's newest detection drawn onto a copy of the frame (drawFaces
   * copies: the frame's buffer is shared with the detector and snapshots). Boxes older than a few
   * detection intervals are left off, so a stalled detector leaves no ghosts behind.
   */
  withBoxes(c: CameraRuntime, f: Frame): Frame {
    const last = c.lastDetection;
    if (!this.config.drawBoxes || !last || last.faces.length === 0) return f;
    if (f.ptsMs - last.ts > Math.max(1000, 3000 / this.config.fps)) return f;
    return { ...f, data: drawFaces(f, last.faces).data };
  }

  logFailure(line: string): void { this.log(redact(line)); }

  /** The MQTT publisher; the pool is closed by its owner. */
  async close(): Promise<void> {
    await this.mqtt?.close();
  }
}

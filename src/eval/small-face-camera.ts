// The small-face set on a fixed night camera (issue 16). A still photo gives the detector one noisy
// look at a face; a camera gives it a new look every frame, and the live pipeline's temporal denoiser
// averages them. Each canvas of the small-face set is held as one camera's view for a clip of N
// frames at the camera's rate, darkened with one exposure and fresh shot and read noise every frame
// (frame 0 is the stills eval's own dark frame), and goes in order through the paths the live
// pipeline and the stills CLI take: the frame raw, smoothed (the stills default), behind the
// temporal denoiser (live's raw pass), denoised and enhanced, and fused (live's default). Detection
// runs every `every` frames (the detector's own rate, detect.fps, under the camera's), and frames
// from `fromFrame` on are scored by face-size bucket, plus recall at each detected frame to show how
// long the denoiser takes to get there. No IO: detector, enhancer and denoiser come in as functions.
import { detectAlong } from '../detect/path.js';
import { fuseFaces, type FaceFinder, type FuseOptions } from '../detect/fuse.js';
import { estimateNoise, smoothFor } from '../detect/smooth.js';
import type { Face } from '../detect/types.js';
import type { RgbImage } from '../image/types.js';
import type { ReferenceBox, ScoredBox } from './faces.js';
import { darkFrame } from './small-face-eval.js';
import { FACE_BUCKETS, scoreByBucket, type BucketScores, type FaceBucket, type SmallFaceFrame, type Split } from './small-faces.js';
import { darken, exposureFor } from './synthetic-night.js';

/** In table order. 'fused (denoised)' is the live pipeline's default; 'smoothed raw' the stills CLI's. */
export const CAMERA_PATHS = ['raw', 'smoothed raw', 'denoised', 'denoised+enhanced', 'fused (denoised)'] as const;
export type CameraPath = typeof CAMERA_PATHS[number];

export interface CameraStages {
  readonly detector: FaceFinder;
  readonly enhance: (img: RgbImage) => Promise<RgbImage>;
  /** One camera's temporal denoiser: frames of `camera` in order, its state carried. */
  readonly denoise: (camera: string, img: RgbImage) => Promise<RgbImage>;
  /** The camera's clip is over: its state can go. */
  readonly forget: (camera: string) => void;
  readonly fuse?: FuseOptions;
}

export interface SmallFaceCameraOptions extends CameraStages {
  readonly frames: readonly (SmallFaceFrame & { readonly split: Split })[];
  readonly fullWells: readonly number[];
  readonly seed: number;
  /** Frames in each camera's clip. */
  readonly clipFrames: number;
  /** Detect on every `every`-th frame (0, every, 2·every, …): the camera's fps over detect.fps. */
  readonly every: number;
  /** Keep the pictures the detector got on the last detected frame of this split's clips at this full well (for a grid). */
  readonly keepLast?: { readonly fullWell: number; readonly split: Split };
  readonly onProgress?: (done: number, total: number) => void;
}

/** The pictures one path's detector got (its smoothing included), on one canvas's last detected frame. */
export interface KeptCameraFrame {
  readonly canvas: number;
  readonly images: Readonly<Record<'raw' | 'smoothed raw' | 'denoised' | 'denoised+enhanced', RgbImage>>;
}

export interface CollectedSmallFaceCamera {
  readonly frames: readonly (SmallFaceFrame & { readonly split: Split })[];
  readonly clipFrames: number;
  /** The clip frames detection ran on, in order. */
  readonly detected: readonly number[];
  /** Normal light: each canvas's clean frame, raw, once (the upper bound). Per canvas. */
  readonly normal: readonly Face[][];
  /** Per level, per path: [canvas][k] for detected[k]. */
  readonly levels: ReadonlyArray<{ readonly fullWell: number; readonly noise: number; readonly paths: Readonly<Record<CameraPath, Face[][][]>> }>;
  /** As keepLast asked. */
  readonly kept: readonly KeptCameraFrame[];
}

/**
 * Frame `t` of canvas `index`'s clip at `fullWell`: the canvas's exposure, noise drawn afresh for
 * each t. t = 0 is exactly the stills eval's dark frame (darkFrame), so its first frame matches.
 */
export function darkCameraFrame(img: RgbImage, seed: number, fullWell: number, index: number, t: number): RgbImage {
  if (t === 0) return darkFrame(img, seed, fullWell, index);
  const s = (Math.imul(seed, 0x27d4eb2f) ^ Math.imul(fullWell + 3, 0x165667b1) ^ Math.imul(index + 1, 0x9e3779b1) ^ Math.imul(t, 0x85ebca77)) >>> 0;
  return darken(img, { exposure: exposureFor(seed, index), fullWell, seed: s });
}

export const detectedFrames = (clipFrames: number, every: number): number[] => {
  if (!(Number.isInteger(clipFrames) && clipFrames >= 1 && Number.isInteger(every) && every >= 1)) throw new RangeError(`clip of ${clipFrames} frames, detection every ${every}: both must be whole numbers ≥ 1`);
  return Array.from({ length: Math.ceil(clipFrames / every) }, (_, k) => k * every);
};

/** Every canvas as a camera at every full well, frames in order; the costly part. */
export async function collectSmallFaceCamera(o: SmallFaceCameraOptions): Promise<CollectedSmallFaceCamera> {
  const detected = detectedFrames(o.clipFrames, o.every);
  const total = o.frames.length * (1 + o.fullWells.length * o.clipFrames);
  let done = 0;
  const one = async (raw: RgbImage, on: 'raw' | 'enhanced', smooth: boolean, enhanced?: RgbImage): Promise<Face[]> =>
    (await detectAlong(o.detector, [{ raw, ...(enhanced ? { enhanced } : {}) }], { on, ...(smooth ? {} : { smooth: false }) }))[0] ?? [];
  const normal: Face[][] = [];
  for (const f of o.frames) { normal.push(await one(f.image, 'raw', false)); o.onProgress?.(++done, total); }
  const levels: Array<CollectedSmallFaceCamera['levels'][number]> = [];
  const kept: KeptCameraFrame[] = [], lastT = detected.at(-1)!;
  for (const fullWell of o.fullWells) {
    const paths = Object.fromEntries(CAMERA_PATHS.map((p) => [p, [] as Face[][][]])) as Record<CameraPath, Face[][][]>;
    let noise = 0, n = 0;
    for (const [ci, fr] of o.frames.entries()) {
      const per = Object.fromEntries(CAMERA_PATHS.map((p) => [p, [] as Face[][]])) as Record<CameraPath, Face[][]>;
      const camera = `canvas${ci}@${fullWell}`;
      for (let t = 0; t < o.clipFrames; t++) {
        const dark = darkCameraFrame(fr.image, o.seed, fullWell, ci, t);
        // The denoiser sees every frame (its state needs them all); the detector every `every`-th.
        const den = await o.denoise(camera, dark);
        if (t % o.every === 0) {
          const sigma = estimateNoise(dark);
          noise += sigma; n++;
          const enhanced = await o.enhance(den);
          per.raw.push(await one(dark, 'raw', false));
          per['smoothed raw'].push(await one(dark, 'raw', true));
          per.denoised.push(await one(den, 'raw', true));
          per['denoised+enhanced'].push(await one(den, 'enhanced', true, enhanced));
          per['fused (denoised)'].push(fuseFaces(per.denoised.at(-1)!, per['denoised+enhanced'].at(-1)!, o.fuse ?? {}));
          if (t === lastT && o.keepLast?.fullWell === fullWell && o.keepLast.split === fr.split) {
            // As detectAlong prepared them: the radius from the noise of the frame taken as raw.
            const sd = estimateNoise(den);
            kept.push({ canvas: ci, images: { raw: dark, 'smoothed raw': smoothFor(dark, sigma), denoised: smoothFor(den, sd), 'denoised+enhanced': smoothFor(enhanced, sd) } });
          }
        }
        o.onProgress?.(++done, total);
      }
      o.forget(camera);
      for (const p of CAMERA_PATHS) paths[p].push(per[p]);
    }
    levels.push({ fullWell, noise: n ? noise / n : 0, paths });
  }
  return { frames: o.frames, clipFrames: o.clipFrames, detected, normal, levels, kept };
}

/** The issue's buckets and, overlapping them, every face of 16 px and more (the recall aim's set). */
export const CAMERA_BUCKETS: readonly FaceBucket[] = [...FACE_BUCKETS, { name: '≥16', min: 16, max: Infinity }];

export interface SmallFaceCameraReport {
  readonly split: Split | 'all';
  readonly canvases: number;
  /** Faces on the canvases of the split (each counted once per scored frame below). */
  readonly faces: number;
  readonly scoredFrames: readonly number[];
  readonly scoreThreshold: number;
  /** The clean canvases, once each: the upper bound per bucket. */
  readonly normal: readonly BucketScores[];
  readonly levels: ReadonlyArray<{ readonly fullWell: number; readonly noise: number; readonly rows: ReadonlyArray<{ readonly path: CameraPath; readonly buckets: readonly BucketScores[] }> }>;
}

/** The canvases of a split (or all), by index. */
const canvasesOf = (c: CollectedSmallFaceCamera, split: Split | 'all'): number[] => c.frames.flatMap((f, i) => (split === 'all' || f.split === split ? [i] : []));

/** Faces of the kept canvases at the kept detected frames, as one image each for scoring. */
function scored(c: CollectedSmallFaceCamera, keep: readonly number[], ks: readonly number[], faces: (ci: number, k: number) => readonly Face[], thr: number, buckets: readonly FaceBucket[] = CAMERA_BUCKETS): BucketScores[] {
  const refs: ReferenceBox[] = [], dets: ScoredBox[] = [];
  for (const ci of keep) {
    for (const k of ks) {
      const image = ci * c.detected.length + k;
      for (const box of c.frames[ci]!.boxes) refs.push({ image, box });
      for (const f of faces(ci, k)) dets.push({ image, box: f.box, score: f.score });
    }
  }
  return scoreByBucket(dets, refs, { scoreThreshold: thr, buckets });
}

/** Recall / precision / AP50 per bucket on one split, over the detected frames from `fromFrame` on. */
export function scoreSmallFaceCamera(c: CollectedSmallFaceCamera, o: { split: Split | 'all'; fromFrame: number; scoreThreshold?: number }): SmallFaceCameraReport {
  const thr = o.scoreThreshold ?? 0.5;
  const keep = canvasesOf(c, o.split);
  const ks = c.detected.flatMap((t, k) => (t >= o.fromFrame ? [k] : []));
  if (ks.length === 0) throw new RangeError(`no detected frame from frame ${o.fromFrame} on (the clip has ${c.clipFrames})`);
  return {
    split: o.split, canvases: keep.length, faces: keep.reduce((n, i) => n + c.frames[i]!.boxes.length, 0),
    scoredFrames: ks.map((k) => c.detected[k]!), scoreThreshold: thr,
    normal: scored(c, keep, [0], (ci) => c.normal[ci]!, thr),
    levels: c.levels.map((l) => ({ fullWell: l.fullWell, noise: l.noise, rows: CAMERA_PATHS.map((path) => ({ path, buckets: scored(c, keep, ks, (ci, k) => l.paths[path][ci]![k]!, thr) })) })),
  };
}

/** Recall of faces of `minSize` px and more at each detected frame, per level, along one path: how fast the denoiser gets there. */
export function recallOverTime(c: CollectedSmallFaceCamera, o: { split: Split | 'all'; path: CameraPath; minSize?: number; scoreThreshold?: number }): Array<{ fullWell: number; recall: number[] }> {
  const keep = canvasesOf(c, o.split), bucket: FaceBucket = { name: 'min', min: o.minSize ?? 16, max: Infinity };
  return c.levels.map((l) => ({
    fullWell: l.fullWell,
    recall: c.detected.map((_, k) => scored(c, keep, [k], (ci) => l.paths[o.path][ci]![k]!, o.scoreThreshold ?? 0.5, [bucket])[0]!.recall),
  }));
}

const f2 = (v: number): string => (Number.isNaN(v) ? '—' : v.toFixed(2));

/** Markdown: the upper bound, then a row per level and path; recall / precision (hits / false faces) per bucket. */
export function formatSmallFaceCamera(r: SmallFaceCameraReport, c: Pick<CollectedSmallFaceCamera, 'clipFrames'>): string {
  const names = CAMERA_BUCKETS.map((b) => b.name);
  const cell = (b: BucketScores): string => `${f2(b.recall)} / ${f2(b.precision)} (${b.tp} / ${b.fp})`;
  const refs = r.normal.map((b) => `${b.bucket} px: ${b.references}`).join(', ');
  const lines = [
    `Split ${r.split}: ${r.canvases} canvases (${refs}) as fixed cameras, ${c.clipFrames} frames each; scored on frames ${r.scoredFrames[0]}–${r.scoredFrames.at(-1)} (${r.scoredFrames.length} detections a clip). Recall / precision (hits / false faces) at score ≥ ${r.scoreThreshold}, IoU 0.5.`,
    '',
    `| full well (σ) | path | ${names.map((n) => `${n} px`).join(' | ')} |`,
    `| --- | --- | ${names.map(() => '---').join(' | ')} |`,
    `| normal | clean frame, raw (upper bound) | ${r.normal.map(cell).join(' | ')} |`,
  ];
  for (const l of r.levels) for (const row of l.rows) lines.push(`| ${l.fullWell} (${l.noise.toFixed(1)}) | ${row.path} | ${row.buckets.map(cell).join(' | ')} |`);
  return lines.join('\n');
}


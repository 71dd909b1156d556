// npm run bench -- false-faces [--loops 10] [--redetect] [--ir FILE] [--walk FILE] [--variants a,b] [--list]
// False faces per 10 minutes of a fixed night camera with no people (issue 16's aim: at most 1), and
// what the same rules cost a walking person. Three steps:
//  1. the default detection path on each clip, once: `pie-stream detect --enhance --fps 5` through
//     runDetect itself (temporal denoiser in the decoder, PIE at 1/4, fused, smoothed, BlazeFace back
//     tiled at 0.5), no still gate; every frame's faces cached under out/false-faces/ (rerun only
//     with --redetect or when the clip or the options change: it is the slow part);
//  2. the clip decoded again as the detect CLI decodes it (the frames the gate sees): looped, by one
//     ffmpeg -stream_loop (the temporal denoiser runs on across the seams, as a camera's would);
//  3. the IR clip (no people) replayed as ONE fixed camera, 5 fps timestamps running on, looped
//     N× (each seam a cut: 65 s → 0 s) and ping-pong (forward, backward, …: no cut), through the
//     still gate and confirmFaces exactly as the live path chains them (gate in the detection
//     worker, then the confirm operator). A false-face appearance is a reported face with no
//     reported face near it (confirmFaces' `near`) in the camera's previous detection; split by
//     where it starts: the first pass, the 2 s after a seam (or turn), the rest. The night walk (one
//     person, the camera starting with the clip) is replayed once: detections with a reported face.
// Each variant is a set of gate and confirmation options; the default variant is the shipped one.
// Writes bench/results/false-faces.json.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { from, lastValueFrom, toArray } from 'rxjs';
import { parsePositiveInt, parseProvider, parseScale } from '../src/cli/args.js';
import { detectOptionsFromFlags, runDetect, TEMPORAL_DENOISE_DEFAULT, type VideoFacesJson } from '../src/cli/detect.js';
import { outsideMask, type MaskRect } from '../src/detect/face-mask.js';
import { StillGate, type StillGateOptions } from '../src/detect/static-scene.js';
import type { Face, FaceEvent } from '../src/detect/types.js';
import { decodeToRawArgs } from '../src/ingest/ffmpeg-args.js';
import { FfmpegProcess } from '../src/ingest/ffmpeg-process.js';
import { rawFrames } from '../src/ingest/frame-splitter.js';
import { probeMedia } from '../src/ingest/probe.js';
import { rgbBytes, type RgbImage } from '../src/image/types.js';
import { CONFIRM_DEFAULTS, confirmFaces, near, type ConfirmOptions } from '../src/pipeline/confirmFaces.js';
import { describeMachine, machine } from './machine.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const arg = (name: string, def?: string): string | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
};
const video = (name: string): string => path.resolve(here, '../../shared/data/video', name);
const irClip = arg('ir', video('ir_cctv_night_65s.mp4'))!;
const walkClip = arg('walk', video('person_walking_night_1080p.mp4'))!;
const loops = Number(arg('loops', '10'));
const FPS = 5;
/** After a seam or a turn, this long counts as "after the seam". */
const SEAM_S = 2;
const cacheDir = path.resolve(here, '../out/false-faces');

/** The flags of `pie-stream detect --enhance --fps 5 --no-annotate`, checked by the CLI's own parser. */
const DETECT_FLAGS = { output: cacheDir, enhance: true, fps: String(FPS), annotate: false, quiet: true } as const;

interface Variant {
  readonly name: string;
  readonly about: string;
  /** The still gate (undefined: none). */
  readonly gate?: StillGateOptions;
  readonly confirm: ConfirmOptions;
  /** The chain before this change: the gate's dropped faces never reached confirmFaces (its fixture rule learnt from the kept ones only). */
  readonly oldChain?: true;
  /** A per-camera face mask (cameras[].faceMask). Applied before the gate here, after it in the live path: the same faces reach confirmFaces, since marking keeps no state per face. */
  readonly mask?: readonly MaskRect[];
}

/** The IR clip's on-screen text as a user would mask it at setup: the date and time (top left) and
 * "Camera 01" (bottom right), each drawn around the text with ~25 px to spare (960×1088 frame). */
const IR_OSD_MASK: readonly MaskRect[] = [{ x: 0, y: 0.04, width: 0.33, height: 0.05 }, { x: 0.71, y: 0.88, width: 0.13, height: 0.04 }];

const DEFAULT_CONFIRM: ConfirmOptions = { ...CONFIRM_DEFAULTS };
const gateOf = (o: Partial<StillGateOptions> = {}): StillGateOptions => ({ afterS: CONFIRM_DEFAULTS.staticAfter, ...o });
/** The gate as it was before (a new camera: nothing still for afterS), with the old chain. */
const old = (o: Partial<StillGateOptions> = {}): Pick<Variant, 'gate' | 'oldChain'> => ({ gate: gateOf({ startAs: 'changed', noiseFrom: 'raw', ...o }), oldChain: true });
const VARIANTS: readonly Variant[] = [
  { name: 'none', about: 'no confirmation, no gate', confirm: { frames: 0, hits: 1 } },
  { name: '2of3', about: '2 of 3', confirm: { frames: 3, hits: 2 } },
  { name: '2of3+fix50', about: '2 of 3 + fixtures after 50 (no gate)', confirm: { frames: 3, hits: 2, fixtureAfter: 50 } },
  { name: 'old:gate10', about: 'gate 10 s alone, before', ...old(), confirm: { frames: 0, hits: 1 } },
  { name: 'old:2of3+gate10', about: '2 of 3 + gate 10 s, before', ...old(), confirm: { frames: 3, hits: 2 } },
  { name: 'old:default', about: '2 of 3 + fixtures after 50 + gate 10 s: the default before this change', ...old(), confirm: DEFAULT_CONFIRM },
  { name: 'old:fix150', about: '2 of 3 + fixtures after 150 + gate 10 s, before', ...old(), confirm: { ...DEFAULT_CONFIRM, fixtureAfter: 150 } },
  { name: 'old:gate5', about: '2 of 3 + fixtures after 50 + gate 5 s, before', ...old({ afterS: 5 }), confirm: DEFAULT_CONFIRM },
  { name: 'old:gate30', about: '2 of 3 + fixtures after 50 + gate 30 s, before', ...old({ afterS: 30 }), confirm: DEFAULT_CONFIRM },
  { name: 'old:3of5+fix25', about: '3 of 5 + fixtures after 25 + gate 10 s, before', ...old(), confirm: { frames: 5, hits: 3, fixtureAfter: 25 } },
  { name: 'old+start-still', about: 'the old default, a new camera\'s cells start still', gate: gateOf({ noiseFrom: 'raw' }), oldChain: true, confirm: DEFAULT_CONFIRM },
  { name: 'fixtures-learn-still', about: 'the old default, the fixture rule also learns from the faces the gate dropped', gate: gateOf({ startAs: 'changed', noiseFrom: 'raw' }), confirm: DEFAULT_CONFIRM },
  { name: 'session7', about: 'the default of session 7: cells start still, fixtures learnt from dropped faces too, noise from the raw quartile', gate: gateOf({ noiseFrom: 'raw' }), confirm: DEFAULT_CONFIRM },
  { name: 'session7+osd-mask', about: 'session 7 with the on-screen text masked', gate: gateOf({ noiseFrom: 'raw' }), confirm: DEFAULT_CONFIRM, mask: IR_OSD_MASK },
  { name: 'default', about: 'the default now: session 7 with the gate noise centred on the median change', gate: gateOf(), confirm: DEFAULT_CONFIRM },
  { name: 'default+gate5', about: 'the default with staticAfter 5 s', gate: gateOf({ afterS: 5 }), confirm: DEFAULT_CONFIRM },
  { name: 'default+osd-mask', about: 'the default with the on-screen text masked (cameras[].faceMask)', gate: gateOf(), confirm: DEFAULT_CONFIRM, mask: IR_OSD_MASK },
  { name: 'default+3of5+fix25', about: 'the default with 3 of 5 and fixtures after 25', gate: gateOf(), confirm: { frames: 5, hits: 3, fixtureAfter: 25 } },
];

/** Clip → every sampled frame's faces along the default path, cached. */
async function detections(clip: string): Promise<VideoFacesJson> {
  const opts = detectOptionsFromFlags([clip], DETECT_FLAGS, { scale: parseScale, provider: parseProvider, positiveInt: parsePositiveInt });
  const stem = path.basename(clip, path.extname(clip));
  const json = path.join(cacheDir, `${stem}.faces.json`), metaFile = path.join(cacheDir, `${stem}.meta.json`);
  const st = fs.statSync(clip);
  const meta = JSON.stringify({ clip: path.resolve(clip), size: st.size, mtimeMs: st.mtimeMs, opts: { ...opts, output: undefined } });
  if (!process.argv.includes('--redetect') && fs.existsSync(json) && fs.existsSync(metaFile) && fs.readFileSync(metaFile, 'utf8') === meta) {
    console.log(`${stem}: detections cached in ${path.relative(process.cwd(), json)} (--redetect to run the detector again)`);
  } else {
    fs.mkdirSync(cacheDir, { recursive: true });
    const t0 = performance.now();
    const r = await runDetect(opts, (s) => console.log(`  ${s}`));
    if (r.failed.length) throw new Error(`detect failed: ${r.failed.map((f) => `${f.input}: ${f.message}`).join('; ')}`);
    fs.writeFileSync(metaFile, meta);
    console.log(`${stem}: detected in ${((performance.now() - t0) / 1000).toFixed(0)} s (contended CPU), cached`);
  }
  return JSON.parse(fs.readFileSync(json, 'utf8')) as VideoFacesJson;
}

/** The clip's sampled frames as the detect CLI decodes them (the frames its still gate is fed). */
async function decode(clip: string): Promise<RgbImage[]> {
  const frames: RgbImage[] = [];
  await decodeEach(clip, 1, (f) => { frames.push(f); });
  return frames;
}

/**
 * The clip decoded `passes` times in a row by ONE ffmpeg (-stream_loop, the temporal denoiser running
 * on across each seam, as a camera's decoder would), each sampled frame handed to `each`.
 */
async function decodeEach(clip: string, passes: number, each: (f: RgbImage, j: number) => void): Promise<number> {
  const { width, height } = await probeMedia(clip);
  const args = decodeToRawArgs({ input: clip, fps: FPS, denoise: TEMPORAL_DENOISE_DEFAULT });
  if (passes > 1) args.splice(args.indexOf('-i'), 0, '-stream_loop', String(passes - 1));
  const p = await FfmpegProcess.start(args);
  let j = 0;
  for await (const data of rawFrames(p.stdout, rgbBytes(width, height))) each({ width, height, data }, j++);
  const exit = await p.exited;
  if (exit.code !== 0) throw new Error(`decoding ${clip} failed: ${exit.stderrTail}`);
  return j;
}

/** Frame indices of a ping-pong replay: forward, backward, …, each turn without a repeated frame (no cut). */
function pingPong(n: number, passes: number): number[] {
  const out: number[] = [];
  for (let p = 0; p < passes; p++) {
    const pass = Array.from({ length: n }, (_, i) => i);
    if (p % 2 === 1) pass.reverse();
    out.push(...(p > 0 ? pass.slice(1) : pass));
  }
  return out;
}

/** The still gate as the detection worker runs it: one camera, each frame with its faces → the faces, those on a still part marked. */
function gated(v: Variant): (f: RgbImage, ms: number, faces: readonly Face[]) => Face[] {
  const gate = v.gate ? new StillGate(v.gate) : undefined;
  // Marked, as the worker hands them to the live operator; the old chain dropped them there.
  return (f, ms, found) => {
    const faces = outsideMask(found, f.width, f.height, v.mask);
    return !gate ? faces : v.oldChain ? gate.filter('cam', f, ms, faces) : gate.mark('cam', f, ms, faces);
  };
}

/** The gate's output through confirmFaces (the live operator after the worker): the reported faces per detection. */
async function confirmed(kept: ReadonlyArray<readonly Face[]>, v: Variant): Promise<Face[][]> {
  const events: FaceEvent[] = kept.map((faces, j) => ({ camera: 'cam', seq: j, ts: Math.round((j * 1000) / FPS), width: 1, height: 1, faces }));
  const out = await lastValueFrom(from(events).pipe(confirmFaces(v.confirm), toArray()));
  return out.map((e) => [...e.faces]);
}

interface Count { faces: number; appearances: number; perTenMin: number; firstPass: number; afterSeams: number; rest: number; minutes: number; starts: Array<{ s: number; frame: number; box: Face['box']; score: number }> }

/** Appearances: a reported face with none near it in the previous detection; classed by where it starts. */
function count(reported: readonly Face[][], idx: readonly number[], pass: readonly number[]): Count {
  // Where each pass starts (a loop's seam, a ping-pong's turn).
  const starts = pass.flatMap((p, j) => (j > 0 && p !== pass[j - 1] ? [j] : []));
  const c: Count = { faces: 0, appearances: 0, perTenMin: 0, firstPass: 0, afterSeams: 0, rest: 0, minutes: reported.length / FPS / 60, starts: [] };
  for (let j = 0; j < reported.length; j++) {
    c.faces += reported[j]!.length;
    for (const f of reported[j]!) {
      if (j > 0 && reported[j - 1]!.some((b) => near(f.box, b.box))) continue;
      c.appearances++;
      if (pass[j] === 0) c.firstPass++;
      else if (starts.some((k) => j >= k && j < k + SEAM_S * FPS)) c.afterSeams++;
      else c.rest++;
      c.starts.push({ s: +(j / FPS).toFixed(1), frame: idx[j]!, box: f.box, score: f.score });
    }
  }
  c.perTenMin = +(c.appearances / c.minutes * 10).toFixed(1);
  return c;
}

const toFaces = (d: VideoFacesJson): Face[][] => d.frames.map((fr) => fr.faces.map((f) => ({ box: f.box, score: f.score, keypoints: f.keypoints })));

if (process.argv.includes('--list')) {
  for (const v of VARIANTS) console.log(`${v.name}: ${v.about}`);
  process.exit(0);
}
const wanted = arg('variants')?.split(',');
const variants = wanted ? VARIANTS.filter((v) => wanted.includes(v.name)) : VARIANTS;
if (wanted && variants.length !== wanted.length) throw new Error(`--variants: unknown ${wanted.filter((w) => !VARIANTS.some((v) => v.name === w)).join(', ')} (--list)`);
for (const clip of [irClip, walkClip]) {
  if (!fs.existsSync(clip)) {
    console.error(`${clip} not found: this benchmark needs ../shared/data/video (or --ir/--walk FILE)`);
    process.exit(2);
  }
}
const m = machine();
console.log(`machine: ${describeMachine(m)}\n`);

const irDet = await detections(irClip), walkDet = await detections(walkClip);
const results: Array<Record<string, unknown>> = [];
{
  const faces = toFaces(irDet), n = faces.length;
  console.log(`\nIR clip, no people: ${n} detections a pass, ${faces.flat().length} faces found; ×${loops} as one camera`);
  // Looped: one decoder through every seam, each variant's gate fed every frame in the same pass;
  // a frame's faces are the cached ones of the same frame of the clip.
  const gates = variants.map(gated), loopKept: Face[][][] = variants.map(() => []), passOf: number[] = [], idxOf: number[] = [];
  const total = await decodeEach(irClip, loops, (f, j) => {
    // The decoder's n-th frame of a pass is the detector's n-th (the clip is 64.83 s: a pass of 324 sampled frames, and one more at the end).
    const t = j / FPS, pass = Math.floor(j / n), i = j % n;
    passOf.push(pass);
    idxOf.push(i);
    gates.forEach((g, k) => loopKept[k]!.push(g(f, Math.round(t * 1000), faces[i]!)));
  });
  // Ping-pong from the frames in memory (no cut to carry a decoder's state across).
  const frames = await decode(irClip);
  if (frames.length !== n) throw new Error(`${irClip}: ${frames.length} frames decoded, ${n} detected: the cache is stale (--redetect)`);
  const pp = pingPong(n, loops);
  const ppPass = pp.map((_, j) => (j < n ? 0 : 1 + Math.floor((j - n) / (n - 1))));
  console.log(`looped: ${total} detections (${(total / FPS / 60).toFixed(1)} min); ping-pong: ${pp.length}`);
  console.log('variant | loop: faces, appearances /10 min (first pass / after seams / rest) | ping-pong: same (first pass / after turns / rest)');
  for (const [k, v] of variants.entries()) {
    const loop = count(await confirmed(loopKept[k]!, v), idxOf, passOf);
    const g = gated(v);
    const ppc = count(await confirmed(pp.map((i, j) => g(frames[i]!, Math.round((j * 1000) / FPS), faces[i]!)), v), pp, ppPass);
    const row = (c: Count): string => `${c.faces}, ${c.appearances} = ${c.perTenMin} (${c.firstPass} / ${c.afterSeams} / ${c.rest})`;
    console.log(`${v.name.padEnd(20)} | ${row(loop)} | ${row(ppc)}`);
    results.push({ clip: 'ir', variant: v.name, about: v.about, gate: v.gate, confirm: v.confirm, loop, pingpong: ppc });
  }
  frames.length = 0;
}
{
  const frames = await decode(walkClip);
  if (frames.length !== walkDet.frames.length) throw new Error(`${walkClip}: ${frames.length} frames decoded, ${walkDet.frames.length} detected: the cache is stale (--redetect)`);
  const faces = toFaces(walkDet);
  console.log(`\nnight walk, one person, camera starts with the clip: ${frames.length} detections, ${faces.filter((f) => f.length).length} with a face found`);
  console.log('variant | detections with a reported face | reported faces');
  for (const v of variants) {
    const g = gated({ ...v, mask: undefined }); // a mask is drawn for one camera's view: the IR clip's
    const rep = await confirmed(frames.map((f, j) => g(f, Math.round((j * 1000) / FPS), faces[j]!)), v);
    const withFace = rep.filter((f) => f.length > 0).length, total = rep.flat().length;
    console.log(`${v.name.padEnd(16)} | ${withFace} | ${total}`);
    results.push({ clip: 'walk', variant: v.name, about: v.about, detectionsWithFace: withFace, faces: total, reported: rep.map((f, i) => ({ frame: i, boxes: f.map((x) => x.box) })).filter((r) => r.boxes.length) });
  }
}
// A subset of the variants is a tuning run: scratch, under out/.
const out = wanted ? path.join(cacheDir, 'partial.json') : path.join(here, 'results', 'false-faces.json');
const head = JSON.stringify({ date: new Date().toISOString(), machine: m, clips: { ir: path.relative(process.cwd(), irClip), walk: path.relative(process.cwd(), walkClip) }, loops, fps: FPS, seamS: SEAM_S, detect: 'pie-stream detect --enhance --fps 5 (runDetect, no gate), cached' }, null, 1);
// One line per row: the appearances and boxes would take tens of thousands of lines indented.
fs.writeFileSync(out, `${head.slice(0, -2)},\n "results": [\n${results.map((r) => `  ${JSON.stringify(r)}`).join(',\n')}\n ]\n}\n`);
console.log(`\nwrote ${out}`);

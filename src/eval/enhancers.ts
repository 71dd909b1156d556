// What `pie-stream eval` compares: enhancers named on the command line. A spec is a built-in
// baseline (identity, gamma, clahe), a DCE-Net .onnx file, or a shell command run once per image;
// each becomes an image-to-image stage with a display name.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Denoiser } from '../denoise/denoiser.js';
import type { DenoiseMode } from '../denoise/graph.js';
import { GLOBAL_MOTION_MODES, type GlobalMotionMode } from '../denoise/global-motion.js';
import { CameraTone } from '../enhance/camera-tone.js';
import { Enhancer } from '../enhance/enhancer.js';
import { MAX_STRENGTH } from '../enhance/graph.js';
import { PieError } from '../errors.js';
import { readImage, writeImage } from '../image/io.js';
import type { RgbImage } from '../image/types.js';
import { runCommand } from '../ingest/ffmpeg-process.js';
import type { CurveForm, ExposureSetting } from '../enhance/tone.js';
import type { CurveApply } from '../enhance/curve-fit.js';
import { clahe, gammaToMean } from './baselines.js';
import { openOnnxImageModel } from './onnx-stage.js';

export interface EvalStage {
  readonly name: string;
  /** What it is, for the report: the model file and its options, the baseline's definition. */
  readonly description: string;
  run(img: RgbImage): Promise<RgbImage>;
  /** A runner for one clip (one camera): carries state from frame to frame. Default: run. */
  sequence?(): (img: RgbImage) => Promise<RgbImage>;
  close(): Promise<void>;
}

export interface ModelDefaults {
  readonly downscale: number;
  readonly exposure?: ExposureSetting;
  readonly threads?: number;
}

export const BUILTIN_STAGES = ['identity', 'gamma', 'clahe'] as const;

const USAGE_FIX = 'write --enhancer identity, gamma, clahe, a model (models/pie-base.onnx, optionally name=file.onnx,exposure=auto|model|0.45,color=value|rgb,nag=on|off,right=on|off,dark=on|off,sat=0–1,scale=1/4,denoise=temporal|spatial,dn=2,gm=shift|reset|off), a published model as it is (name=file.onnx,raw), or cmd:"tool {in} {out}"';

/**
 * "identity" | "gamma" | "clahe" |
 * "[name=]file.onnx[,exposure=auto|model|x][,color=value|rgb][,nag=on|off][,right=on|off][,dark=on|off][,scale=1/k][,strength=s][,denoise=temporal|spatial][,dn=s][,gm=shift|reset|off]" |
 *   (denoise: the live pipeline's denoiser before the curves; a clip runs through one camera's state, a still spatially) |
 * "[name=]file.onnx,raw" (any image-to-image model, as exported: the peers) |
 * "[name=]cmd:<shell command with {in} and {out}>".
 */
export async function openStage(spec: string, d: ModelDefaults): Promise<EvalStage> {
  if (spec === 'identity') return { name: 'identity', description: 'the input unchanged', run: async (x) => x, close: async () => {} };
  if (spec === 'gamma') {
    return { name: 'gamma', description: 'one global gamma per image that lifts the mean brightness to 0.45', run: async (x) => gammaToMean(x, 0.45).image, close: async () => {} };
  }
  if (spec === 'clahe') return { name: 'clahe', description: "CLAHE on V = max(R,G,B), libvips' hist_local (window 1/8 of each side, slope 3), RGB scaled by V'/V", run: (x) => clahe(x), close: async () => {} };
  const eq = /^([A-Za-z0-9_.@-]+)=(.+)$/.exec(spec);
  const [name, body] = eq ? [eq[1]!, eq[2]!] : [undefined, spec];
  if (body.startsWith('cmd:')) return commandStage(name ?? 'command', body.slice(4));
  const [file, ...opts] = body.split(',');
  if (!file!.endsWith('.onnx')) throw new PieError('usage', `--enhancer ${spec}: not a built-in, an .onnx model or a cmd:`, USAGE_FIX);
  if (!fs.existsSync(file!)) throw new PieError('usage', `--enhancer ${spec}: ${file} does not exist`, USAGE_FIX);
  if (opts.length === 1 && opts[0] === 'raw') {
    const m = await openOnnxImageModel(file!, d.threads);
    return { name: name ?? path.basename(file!, '.onnx'), description: `${file} as exported (input → enhanced, frame by frame)`, run: (x) => m.run(x), close: () => m.close() };
  }
  let downscale = d.downscale, exposure: ExposureSetting = d.exposure ?? 'auto', strength = 1, form: CurveForm = 'value', noiseAwareGain = true, saturation: number | undefined, curveApply: CurveApply = 'exact', exposeRight = true, darkChroma = true;
  let denoise: DenoiseMode | undefined, dnStrength: number | undefined, globalMotion: GlobalMotionMode | undefined;
  for (const o of opts) {
    const [k, v] = o.split('=') as [string, string | undefined];
    const x = Number(v);
    if (k === 'exposure' && (v === 'auto' || v === 'model')) exposure = v;
    else if (k === 'exposure' && x > 0 && x < 1) exposure = x;
    else if (k === 'color' && (v === 'value' || v === 'rgb')) form = v;
    else if (k === 'nag' && (v === 'on' || v === 'off')) noiseAwareGain = v === 'on';
    else if (k === 'right' && (v === 'on' || v === 'off')) exposeRight = v === 'on';
    else if (k === 'dark' && (v === 'on' || v === 'off')) darkChroma = v === 'on';
    else if (k === 'sat' && x >= 0 && x <= 1) saturation = x;
    else if (k === 'apply' && (v === 'exact' || v === 'fitted' || v === 'grid')) curveApply = v;
    else if (k === 'strength' && x >= 0 && x <= MAX_STRENGTH) strength = x;
    else if (k === 'scale' && v && /^1(\/\d+)?$/.test(v)) downscale = v === '1' ? 1 : Number(v.slice(2));
    else if (k === 'denoise' && (v === 'temporal' || v === 'spatial')) denoise = v;
    else if (k === 'dn' && x >= 0 && x <= 16) dnStrength = x;
    else if (k === 'gm' && (GLOBAL_MOTION_MODES as readonly string[]).includes(v ?? '')) globalMotion = v as GlobalMotionMode;
    else throw new PieError('usage', `--enhancer ${spec}: option '${o}' is not exposure=auto|model|0–1, color=value|rgb, nag=on|off, right=on|off, dark=on|off, sat=0–1, apply=exact|fitted|grid, strength=0–${MAX_STRENGTH}, scale=1/k, denoise=temporal|spatial, dn=0–16, gm=shift|reset|off or raw`, USAGE_FIX);
  }
  const e = await Enhancer.open({ modelPath: file!, downscale, strength, exposure, form, noiseAwareGain, curveApply, exposeRight, darkChroma, ...(saturation !== undefined ? { saturation } : {}), ...(d.threads ? { threads: d.threads } : {}) });
  const dnOf = (mode: DenoiseMode): Promise<Denoiser> => Denoiser.open({ mode, ...(dnStrength !== undefined ? { strength: dnStrength } : {}), ...(globalMotion ? { globalMotion } : {}), ...(d.threads ? { threads: d.threads } : {}) });
  // Stills have no frame before them: spatial. Clips: the mode asked for, one camera's state per clip.
  const still = denoise ? await dnOf('spatial') : undefined;
  const clip = denoise === 'temporal' ? await dnOf('temporal') : still;
  let clips = 0, stills = 0;
  const what = [...(denoise ? [`denoise ${denoise}${dnStrength !== undefined ? ` (strength ${dnStrength})` : ''}${globalMotion ? `, global motion ${globalMotion}` : ''} first`] : []), `${file}`, `curves at 1/${downscale}`, ...(strength !== 1 ? [`strength ${strength}`] : []),
    form === 'value' ? 'colour-preserving curves' : 'per-channel curves', `exposure ${exposure}`, noiseAwareGain ? 'noise-aware gain' : 'no gain limit', ...(exposeRight ? [] : ['not exposed to the right']), ...(darkChroma ? [] : ['near-black chroma lifted too']), ...(saturation !== undefined ? [`saturation ${saturation}`] : []), ...(curveApply !== 'exact' ? ['curves applied by a fitted polynomial'] : [])];
  // Each image is its own scene: no exposure state carried (a still).
  return {
    name: name ?? path.basename(file!, '.onnx') + (exposure !== 'auto' ? `@${exposure}` : '') + (denoise ? `+${denoise}` : ''),
    description: what.join(', '),
    run: async (x) => {
      // Each still its own camera, forgotten after: its noise model must not pair it with another image.
      const camera = `still-${stills++}`;
      const clean = still ? await still.denoise([{ camera, image: x }]) : [x];
      still?.reset(camera);
      return (await e.enhance(clean)).frames[0]!;
    },
    sequence: () => {
      const tone = new CameraTone('auto');
      const camera = `clip-${clips++}`;
      return async (x) => {
        const clean = clip ? (await clip.denoise([{ camera, image: x }]))[0]! : x;
        const r = await e.enhance([clean], [tone.next()]);
        tone.observe(r.tone[0]!);
        return r.frames[0]!;
      };
    },
    close: async () => { await Promise.all([e.close(), still?.close(), clip !== still ? clip?.close() : undefined]); },
  };
}

/** A command per image: {in} and {out} are replaced by temporary PNG paths. */
function commandStage(name: string, template: string): EvalStage {
  if (!template.includes('{in}') || !template.includes('{out}')) throw new PieError('usage', `--enhancer cmd:${template}: needs {in} and {out}`, USAGE_FIX);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pie-eval-'));
  let n = 0;
  return {
    name, description: `command: ${template}`,
    run: async (x) => {
      const i = path.join(dir, `in-${n}.png`), o = path.join(dir, `out-${n++}.png`);
      await writeImage(x, i);
      await runCommand(template.replaceAll('{in}', JSON.stringify(i)).replaceAll('{out}', JSON.stringify(o)));
      const y = await readImage(o);
      fs.rmSync(i, { force: true });
      fs.rmSync(o, { force: true });
      if (y.width !== x.width || y.height !== x.height) throw new PieError('output', `${name}: the command wrote ${y.width}x${y.height} for a ${x.width}x${x.height} input`, 'make the command keep the image size');
      return y;
    },
    close: async () => { fs.rmSync(dir, { recursive: true, force: true }); },
  };
}

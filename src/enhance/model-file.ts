// The model file format: a plain DCE-Net ONNX model (float NCHW input in [0,1] → enhanced image
// and curve maps) whose initializers carry the official checkpoint's parameter names. Any ONNX
// tool can run it as is; pie-stream reads its weights and builds the pipeline graph around them.
import { constants as fsConstants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { GraphBuilder } from '../onnx/builder.js';
import { inspectModel, type ModelSummary } from '../onnx/inspect.js';
import { PieError, messageOf } from '../errors.js';
import {
  addCurveIterations, addDceNet, addDceNetWeights, biasName, CURVE_CHANNELS, expectedShape,
  LAYER_NAMES, weightName, type ConvWeights, type DceNetWeights, type LayerName,
} from './dcenet.js';

export const MODEL_KIND = 'pie-stream/dcenet';

/** The standalone DCE-Net model: input 'input' float [N,3,H,W] → 'enhanced', 'curve_maps'. */
export function dceNetModelBytes(w: DceNetWeights, metadata: Readonly<Record<string, string>> = {}): Uint8Array {
  const b = new GraphBuilder('dcenet');
  addDceNetWeights(b, w);
  const x = b.input('input', 'float32', ['N', 3, 'H', 'W']);
  const curves = addDceNet(b, x);
  const ys = addCurveIterations(b, x, curves);
  b.output(ys[ys.length - 1]!, 'float32', ['N', 3, 'H', 'W'], 'enhanced');
  b.output(curves, 'float32', ['N', CURVE_CHANNELS, 'H', 'W'], 'curve_maps');
  return b.toBytes({ metadata: { kind: MODEL_KIND, ...metadata } });
}

const sameDims = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((v, i) => v === b[i]);

function describeSignature(s: ModelSummary): string {
  const io = (v: ModelSummary['inputs']): string => v.map((x) => `${x.name} ${x.type} [${x.shape?.join(',') ?? '?'}]`).join(', ');
  return `inputs: ${io(s.inputs) || 'none'}; outputs: ${io(s.outputs) || 'none'}`;
}

/** Extracts DCE-Net weights from a parsed model, with an error naming what is missing. */
/**
 * Below this magnitude a weight is zero for every output in float32. Weight decay drives the
 * weights of a channel whose ReLU never fires toward zero, through float32's subnormal range;
 * products with them are subnormal, and x86 computes subnormals ~100× slower. Measured: pie-v2's
 * 7,500-step checkpoint had 27% of its weights under 1e-20 and ran 3.4 s a 640×480 frame instead
 * of 54 ms; flushed, 54 ms. ONNX Runtime's session.set_denormal_as_zero changed nothing here.
 */
export const DEAD_WEIGHT = 1e-20;

/** Sets every value under DEAD_WEIGHT in magnitude to 0, in place; returns how many it set. */
export function flushDeadWeights(data: Float32Array): number {
  let n = 0;
  for (let i = 0; i < data.length; i++) {
    if (data[i] !== 0 && Math.abs(data[i]!) < DEAD_WEIGHT) { data[i] = 0; n++; }
  }
  return n;
}

export function weightsFromSummary(s: ModelSummary, source: string): DceNetWeights {
  const fix = 'use a DCE-Net model written by `pie-stream train`/`adapt`, or omit --model for the shipped one';
  const take = (l: LayerName, part: 'weight' | 'bias'): ConvWeights['weight'] => {
    const name = part === 'weight' ? weightName(l) : biasName(l);
    const want = expectedShape(l, part);
    const t = s.initializers.get(name);
    if (!t) {
      throw new PieError('model', `${source} is not a DCE-Net model: it has no initializer ${name} [${want.join(',')}] (${describeSignature(s)})`, fix);
    }
    if (t.type !== 'float32' || !sameDims(t.dims, want)) {
      throw new PieError('model', `${source}: ${name} is ${t.type} [${t.dims.join(',')}], DCE-Net needs float32 [${want.join(',')}]`, fix);
    }
    // A copy: the summary's tensor may be a view of the file's bytes.
    const data = Float32Array.from(t.data as Float32Array);
    flushDeadWeights(data);
    return { ...t, data } as ConvWeights['weight'];
  };
  const entries = LAYER_NAMES.map((l) => [l, { weight: take(l, 'weight'), bias: take(l, 'bias') }] as const);
  return Object.fromEntries(entries) as Record<LayerName, ConvWeights>;
}

export interface LoadedModel {
  readonly path: string;
  readonly weights: DceNetWeights;
  readonly metadata: Readonly<Record<string, string>>;
}

/**
 * How a model path is shown in logs, the API and the viewer: relative to the working folder when
 * inside it, else its file name — never the server's absolute layout (the viewer is another
 * user's view of the machine).
 */
export function shownModelPath(p: string): string {
  const rel = path.relative(process.cwd(), path.resolve(p));
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : path.basename(p);
}

/** The largest model file read: DCE-Net is ~320 KB; a bigger file is not one, and is never read whole into memory. */
export const MAX_MODEL_BYTES = 64 * 1024 * 1024;

/**
 * Reads a model file: a regular file only (a FIFO or device would block a reader thread for ever;
 * opened non-blocking, so even opening one returns at once), its size checked before reading.
 * `shown` names it in messages (the path as the user wrote it, not the server's absolute one).
 */
export async function readModelBytes(file: string, shown: string = file): Promise<Uint8Array> {
  const fix = 'check the model path (a .onnx file); a configured model is enhance.model or a camera\'s model';
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  } catch (e) {
    throw new PieError('model', `cannot read model ${shown}: ${messageOf(e).replace(file, shown)}`, fix, { cause: e });
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw new PieError('model', `model ${shown} is not a regular file`, 'name a .onnx file, not a FIFO, device or folder');
    if (st.size > MAX_MODEL_BYTES) {
      throw new PieError('model', `model ${shown} is ${st.size} bytes, over the ${MAX_MODEL_BYTES}-byte limit: not a DCE-Net model`, 'name a DCE-Net model written by `pie-stream train`/`adapt`');
    }
    // Read by the stat's size, bounded: a file that grows meanwhile is cut at the limit, not followed.
    const buf = new Uint8Array(st.size);
    const { bytesRead } = await handle.read(buf, 0, st.size, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

export async function loadDceNetModel(path: string, shown: string = path): Promise<LoadedModel> {
  const bytes = await readModelBytes(path, shown);
  let summary: ModelSummary;
  try {
    summary = inspectModel(bytes);
  } catch (e) {
    throw new PieError('model', `${shown} is not an ONNX model (${messageOf(e)})`, 'pass a .onnx file written by pie-stream', { cause: e });
  }
  return { path, weights: weightsFromSummary(summary, shown), metadata: summary.metadata };
}

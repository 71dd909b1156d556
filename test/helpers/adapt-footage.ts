// adapt's inputs made on the spot: a dark clip as a camera's night, bright frames as its day, and
// an identity base model (a curve of zero: the picture unchanged) that any useful run improves.
import fs from 'node:fs';
import path from 'node:path';
import { expectedShape, LAYER_NAMES, type DceNetWeights } from '../../src/enhance/dcenet.js';
import { dceNetModelBytes } from '../../src/enhance/model-file.js';
import { writeImage } from '../../src/image/io.js';
import { f32 } from '../../src/onnx/tensor.js';
import { darkImage, makeClip } from './media.js';

/** Writes night.mp4, day/d{0,1,2}.png and identity.onnx into `dir` (96×64). */
export async function adaptFootage(dir: string): Promise<void> {
  await makeClip(path.join(dir, 'night.mp4'), { width: 96, height: 64, fps: 10, seconds: 2 });
  fs.mkdirSync(path.join(dir, 'day'));
  for (let i = 0; i < 3; i++) {
    const d = darkImage(96, 64, i + 3);
    await writeImage({ ...d, data: d.data.map((v) => Math.min(255, v * 5)) }, path.join(dir, 'day', `d${i}.png`));
  }
  const identity = Object.fromEntries(LAYER_NAMES.map((l) => [l, { weight: f32(expectedShape(l, 'weight')), bias: f32(expectedShape(l, 'bias')) }])) as DceNetWeights;
  fs.writeFileSync(path.join(dir, 'identity.onnx'), dceNetModelBytes(identity));
}

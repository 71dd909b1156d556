// A published enhancer run as it was exported (`../shared/models/peers`): any image-to-image ONNX
// model with input `input` float [N,3,H,W] RGB in [0,1] and output `enhanced` of the same shape,
// one image at a time, with nothing of pie-stream's around it. For side-by-side comparison only.
import fs from 'node:fs';
import { openSession, ort } from '../enhance/session.js';
import { PieError } from '../errors.js';
import type { RgbImage } from '../image/types.js';
import { inspectModel } from '../onnx/inspect.js';
import { fromNchw, toNchw } from '../train/data.js';

export const PEER_INPUT = 'input';
export const PEER_OUTPUT = 'enhanced';

export interface OnnxImageModel {
  run(img: RgbImage): Promise<RgbImage>;
  close(): Promise<void>;
}

export async function openOnnxImageModel(file: string, threads?: number): Promise<OnnxImageModel> {
  const bytes = fs.readFileSync(file);
  const io = inspectModel(bytes);
  if (!io.inputs.some((i) => i.name === PEER_INPUT) || !io.outputs.some((o) => o.name === PEER_OUTPUT)) {
    throw new PieError('usage', `${file}: not an image-to-image model with input '${PEER_INPUT}' and output '${PEER_OUTPUT}' (has ${io.inputs.map((i) => i.name).join(', ')} → ${io.outputs.map((o) => o.name).join(', ')})`,
      "export it with input 'input' [N,3,H,W] RGB in [0,1] and output 'enhanced', or drop ',raw' to run a DCE-Net through pie-stream's enhancer");
  }
  const s = await openSession(bytes, 'cpu', threads !== undefined ? { threads } : {});
  return {
    run: async (img) => {
      const out = await s.session.run({ [PEER_INPUT]: new ort.Tensor('float32', toNchw([img]), [1, 3, img.height, img.width]) }, [PEER_OUTPUT]);
      return fromNchw(out[PEER_OUTPUT]!.data as Float32Array, 0, img.width, img.height);
    },
    close: () => s.session.release(),
  };
}

// Writes models/pie-default.onnx: DCE-Net with HAND-SET weights, not trained. It is the shipped
// default until `pie-stream train` produces pie-base.onnx (issue 4). conv1's first channel is the
// 3×3 mean brightness L; every other path is zero; conv7 gives r = tanh(B + W·L) for all 24 maps,
// a global brightening curve that weakens as the neighbourhood gets brighter.
// Run: npx tsx scripts/make-default-model.ts
import fs from 'node:fs';
import { DCE_LAYERS, LAYER_NAMES, type DceNetWeights, type LayerName } from '../src/enhance/dcenet.js';
import { dceNetModelBytes } from '../src/enhance/model-file.js';
import { f32 } from '../src/onnx/tensor.js';

const B = -0.3;
const W = 0.3; // fitted so that mean brightness 0.1 → 0.45, 0.05 → 0.28, 0.9 → 0.92 after 8 iterations

const weights = Object.fromEntries(LAYER_NAMES.map((l: LayerName) => {
  const [o, i] = DCE_LAYERS[l];
  return [l, { weight: f32([o, i, 3, 3]), bias: f32([o]) }];
})) as DceNetWeights;

// conv1, output channel 0: mean of the 3×3×3 neighbourhood (all taps 1/27).
weights.e_conv1.weight.data.fill(1 / 27, 0, 27);
// conv7 reads cat[x1, x6]: input channel 0 is L. Every curve map: W·L (centre tap) + B.
for (let o = 0; o < 24; o++) {
  weights.e_conv7.weight.data[(o * 64 + 0) * 9 + 4] = W;
  weights.e_conv7.bias.data[o] = B;
}

const out = new URL('../models/pie-default.onnx', import.meta.url);
fs.writeFileSync(out, dceNetModelBytes(weights, {
  name: 'pie-default',
  trained: 'no: hand-set weights, a luminance-adaptive global curve',
  curve: `r = tanh(${B} + ${W} * mean3x3(RGB))`,
}));
console.log(`wrote ${out.pathname}`);

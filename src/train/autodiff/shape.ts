// Static shapes for the training graph. Training runs at a fixed crop and batch, so every shape
// is known when the graph is built: gradients of broadcasts reduce over exactly known axes, and a
// shape mistake fails at build time with the op's name instead of inside ONNX Runtime.
export type Shape = readonly number[];

export const numel = (s: Shape): number => s.reduce((a, b) => a * b, 1);
export const fmt = (s: Shape): string => `[${s.join(',')}]`;

/** NumPy broadcasting of any number of shapes. */
export function broadcast(...shapes: Shape[]): Shape {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    let d = 1;
    for (const s of shapes) {
      const v = s[s.length - rank + i] ?? 1;
      if (v !== 1 && d !== 1 && v !== d) throw new Error(`cannot broadcast ${shapes.map(fmt).join(' and ')}`);
      if (v !== 1) d = v;
    }
    out.push(d);
  }
  return out;
}

/** Axes of `out` along which a tensor of shape `s` was broadcast (leading ones included). */
export function broadcastAxes(s: Shape, out: Shape): number[] {
  const lead = out.length - s.length;
  const axes: number[] = [];
  for (let i = 0; i < out.length; i++) {
    if (i < lead || (s[i - lead] === 1 && out[i] !== 1)) axes.push(i);
  }
  return axes;
}

/** Output size of a convolution or pooling window along one axis (ONNX semantics). */
export function windowOut(size: number, k: number, stride: number, padBegin: number, padEnd: number, dilation = 1, ceil = false): number {
  const span = size + padBegin + padEnd - dilation * (k - 1) - 1;
  let out = (ceil ? Math.ceil(span / stride) : Math.floor(span / stride)) + 1;
  // ceil_mode: a last window that starts inside the end padding is dropped.
  if (ceil && (out - 1) * stride >= size + padBegin) out -= 1;
  return out;
}

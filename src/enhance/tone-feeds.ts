// The tone stage's per-frame inputs and outputs (tone.ts TONE_IO) as host values, shared by the
// enhancer and the curve applier: the camera's IR flag and exposure state go in, the exposure it
// used and the input's chroma and luma come out.
import { TONE_IO } from './tone.js';
import { ort } from './session.js';

/** What the caller knows about a frame's camera. Omitted = colour, no previous exposure (a still). */
export interface FrameTone {
  readonly mono?: boolean;
  /** The exposure target the camera used on its previous frame (ToneResult.exposure). */
  readonly exposureState?: number;
  /** The curve strength and gamma of the camera's previous frame (ToneResult's): kept while its target holds. */
  readonly fitState?: ExposureFit;
}

export interface ExposureFit {
  readonly strength: number;
  readonly gamma: number;
}

export interface ToneResult {
  /** The exposure target used (−1 when exposure is 'model'): feed it back as the next exposureState. */
  readonly exposure: number;
  /** Mean max−min of RGB of the input, 0–1: near 0 for a monochrome (IR) frame. */
  readonly chroma: number;
  /** Mean luma of the input, 0–1. */
  readonly luma: number;
  /** The curve strength and gamma used (−1 when exposure is 'model'): feed them back as the next fitState. */
  readonly strength: number;
  readonly gamma: number;
}

export function toneFeeds(n: number, tones: readonly FrameTone[] | undefined): Record<string, ort.Tensor> {
  if (tones && tones.length !== n) throw new RangeError(`${tones.length} frame tones for ${n} frames`);
  const mono = new Float32Array(n);
  const state = new Float32Array(n).fill(-1), strength = new Float32Array(n).fill(-1), gamma = new Float32Array(n).fill(-1);
  tones?.forEach((t, i) => {
    mono[i] = t.mono ? 1 : 0;
    if (t.exposureState !== undefined && t.exposureState > 0) state[i] = t.exposureState;
    if (t.fitState && t.fitState.gamma > 0) { strength[i] = t.fitState.strength; gamma[i] = t.fitState.gamma; }
  });
  const feed = (v: Float32Array): ort.Tensor => new ort.Tensor('float32', v, [n]);
  return { [TONE_IO.mono]: feed(mono), [TONE_IO.exposureState]: feed(state), [TONE_IO.strengthState]: feed(strength), [TONE_IO.gammaState]: feed(gamma) };
}

export function toneResults(out: Readonly<Record<string, ort.Tensor>>, n: number): ToneResult[] {
  const get = (k: string): Float32Array => out[k]!.data as Float32Array;
  const [e, c, l, s, g] = [get(TONE_IO.exposureOut), get(TONE_IO.chromaOut), get(TONE_IO.lumaOut), get(TONE_IO.strengthOut), get(TONE_IO.gammaOut)];
  return Array.from({ length: n }, (_, i) => ({ exposure: e[i]!, chroma: c[i]!, luma: l[i]!, strength: s[i]!, gamma: g[i]! }));
}

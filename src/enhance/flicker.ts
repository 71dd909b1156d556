// Flicker of a video, as issue 5 measures it: on a static camera every frame-to-frame change is
// noise or flicker, so the mean absolute difference between consecutive frames of the output,
// divided by the same of the input, says how much the enhancer adds to what the sensor already
// had (the enhancer brightens, so > 1 is normal; lower is steadier). Pure: plain arrays.
import type { RgbImage } from '../image/types.js';

function checkSameSize(frames: readonly RgbImage[], what: string): void {
  const f0 = frames[0];
  if (!f0) return;
  for (const f of frames) {
    if (f.width !== f0.width || f.height !== f0.height || f.data.length !== f.width * f.height * 3) {
      throw new RangeError(`${what}: frames must share one size (${f0.width}x${f0.height} vs ${f.width}x${f.height}, ${f.data.length} bytes)`);
    }
  }
}

/** Mean over consecutive pairs of the mean |a − b| over all bytes, in 8-bit levels (0 for < 2 frames). */
export function meanAbsFrameDiff(frames: readonly RgbImage[]): number {
  checkSameSize(frames, 'meanAbsFrameDiff');
  if (frames.length < 2) return 0;
  let total = 0;
  for (let i = 1; i < frames.length; i++) {
    const a = frames[i - 1]!.data, b = frames[i]!.data;
    let s = 0;
    for (let j = 0; j < a.length; j++) s += Math.abs(a[j]! - b[j]!);
    total += s / a.length;
  }
  return total / (frames.length - 1);
}

/** Mean brightness (mean of all bytes) of each frame, in 8-bit levels. */
export function frameBrightness(frames: readonly RgbImage[]): Float64Array {
  return Float64Array.from(frames, (f) => {
    let s = 0;
    for (let j = 0; j < f.data.length; j++) s += f.data[j]!;
    return f.data.length ? s / f.data.length : 0;
  });
}

/**
 * Standard deviation over time of the per-frame mean brightness (population std): global
 * pumping, which pixel noise averages out of. Blind to flicker that cancels across the frame.
 */
export function brightnessStd(frames: readonly RgbImage[]): number {
  const m = frameBrightness(frames);
  if (m.length < 2) return 0;
  const mean = m.reduce((a, b) => a + b, 0) / m.length;
  return Math.sqrt(m.reduce((a, b) => a + (b - mean) ** 2, 0) / m.length);
}

export interface FlickerReport {
  /** meanAbsFrameDiff(output) / meanAbsFrameDiff(input): the figure issue 5 asks for. */
  readonly flicker: number;
  readonly inputDiff: number;
  readonly outputDiff: number;
  /** brightnessStd(output) / brightnessStd(input) (Infinity when the input's is 0 and the output's is not). */
  readonly brightnessFlicker: number;
  readonly inputBrightnessStd: number;
  readonly outputBrightnessStd: number;
}

const ratio = (a: number, b: number): number => (b > 0 ? a / b : a > 0 ? Infinity : 1);

/** Flicker of `output` relative to `input` (the same frames before enhancement). */
export function flicker(input: readonly RgbImage[], output: readonly RgbImage[]): FlickerReport {
  if (input.length !== output.length) throw new RangeError(`flicker: ${input.length} input frames but ${output.length} output frames`);
  const inputDiff = meanAbsFrameDiff(input), outputDiff = meanAbsFrameDiff(output);
  const inputBrightnessStd = brightnessStd(input), outputBrightnessStd = brightnessStd(output);
  return {
    flicker: ratio(outputDiff, inputDiff), inputDiff, outputDiff,
    brightnessFlicker: ratio(outputBrightnessStd, inputBrightnessStd), inputBrightnessStd, outputBrightnessStd,
  };
}

/**
 * The same figures accumulated frame by frame, for clips too long to hold in memory: push each
 * input frame with its output, in order; only the previous pair is kept.
 */
export class FlickerMeter {
  private prevIn: Uint8Array | undefined;
  private prevOut: Uint8Array | undefined;
  private pairs = 0;
  private inDiff = 0;
  private outDiff = 0;
  private readonly inMeans: number[] = [];
  private readonly outMeans: number[] = [];

  push(input: RgbImage, output: RgbImage): void {
    if (input.data.length !== output.data.length) throw new RangeError(`FlickerMeter: input ${input.width}x${input.height} vs output ${output.width}x${output.height}`);
    if (this.prevIn && this.prevIn.length !== input.data.length) throw new RangeError('FlickerMeter: frames must share one size');
    this.inMeans.push(frameBrightness([input])[0]!);
    this.outMeans.push(frameBrightness([output])[0]!);
    if (this.prevIn && this.prevOut) {
      this.inDiff += meanAbsFrameDiff([{ ...input, data: this.prevIn }, input]);
      this.outDiff += meanAbsFrameDiff([{ ...output, data: this.prevOut }, output]);
      this.pairs++;
    }
    // Copies: callers' buffers (ORT outputs, decoder chunks) may be reused.
    this.prevIn = Uint8Array.from(input.data);
    this.prevOut = Uint8Array.from(output.data);
  }

  get frames(): number {
    return this.inMeans.length;
  }

  report(): FlickerReport {
    const std = (m: readonly number[]): number => {
      if (m.length < 2) return 0;
      const mean = m.reduce((a, b) => a + b, 0) / m.length;
      return Math.sqrt(m.reduce((a, b) => a + (b - mean) ** 2, 0) / m.length);
    };
    const inputDiff = this.pairs ? this.inDiff / this.pairs : 0, outputDiff = this.pairs ? this.outDiff / this.pairs : 0;
    const inputBrightnessStd = std(this.inMeans), outputBrightnessStd = std(this.outMeans);
    return {
      flicker: ratio(outputDiff, inputDiff), inputDiff, outputDiff,
      brightnessFlicker: ratio(outputBrightnessStd, inputBrightnessStd), inputBrightnessStd, outputBrightnessStd,
    };
  }
}

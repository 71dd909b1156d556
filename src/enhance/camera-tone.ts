// A camera's tone state between frames: its exposure target (smoothed in the graph, carried here)
// and whether it is in monochrome (IR) mode. Cameras switch between day colour and IR at dusk and
// dawn, and H.264 noise makes single grey frames look faintly coloured, so the mode changes only
// after several frames agree (hysteresis). Pure: the pipeline feeds it the tone results.
import type { ExposureFit, FrameTone, ToneResult } from './tone-feeds.js';

export type MonoMode = 'auto' | 'on' | 'off';

/**
 * Relative chroma = mean(max−min of RGB) / mean luma on the graph's thumbnail. Measured: IR CCTV
 * 0.0004, the darkest colour night clip 0.85, colour photos 0.3–1.3. Enter IR below `enter` for
 * `frames` frames in a row, leave above `exit` for as many.
 */
export const MONO_DETECT = { enter: 0.02, exit: 0.05, frames: 5 } as const;

/**
 * 'mono-found': monochrome since the camera's first frame (since its last reset): the mode settles,
 * but the picture did not change, so nothing temporal needs to start again (an IR camera would
 * otherwise restart its denoiser a few frames in: a second young estimate, measured as flicker).
 */
export type ToneEvent = 'mono-on' | 'mono-off' | 'mono-found' | undefined;

export class CameraTone {
  private monoNow = false;
  private streak = 0;
  private exposure: number | undefined;
  /** The curve strength and gamma of the last frame, reused by the graph while the target holds. */
  private fit: ExposureFit | undefined;
  /** Frames observed since construction or reset. */
  private seen = 0;

  constructor(readonly mode: MonoMode = 'auto') {
    this.monoNow = mode === 'on';
  }

  get mono(): boolean { return this.monoNow; }

  /** The inputs for this camera's next frame. */
  next(): FrameTone {
    return { mono: this.monoNow, ...(this.exposure !== undefined ? { exposureState: this.exposure } : {}), ...(this.fit ? { fitState: this.fit } : {}) };
  }

  /**
   * Takes the tone results of this camera's latest frame. Returns the mode change, if any: the
   * caller resets what the change invalidates (temporal state, the exposure target here).
   */
  observe(r: ToneResult): ToneEvent {
    this.exposure = r.exposure > 0 ? r.exposure : undefined;
    this.fit = r.gamma > 0 ? { strength: r.strength, gamma: r.gamma } : undefined;
    this.seen++;
    if (this.mode !== 'auto') return undefined;
    const rel = r.chroma / Math.max(r.luma, 1 / 255);
    const flips = this.monoNow ? rel > MONO_DETECT.exit : rel < MONO_DETECT.enter;
    this.streak = flips ? this.streak + 1 : 0;
    if (this.streak < MONO_DETECT.frames) return undefined;
    this.monoNow = !this.monoNow;
    const fromStart = this.monoNow && this.streak === this.seen;
    this.streak = 0;
    if (fromStart) return 'mono-found'; // the same picture all along: its exposure stands
    this.exposure = undefined; // the IR illuminator changes the scene's brightness: meter afresh
    this.fit = undefined;
    return this.monoNow ? 'mono-on' : 'mono-off';
  }

  /** A scene change, restart, resolution or model change: meter afresh (the mode is kept). */
  reset(): void {
    this.exposure = undefined;
    this.fit = undefined;
    this.streak = 0;
    this.seen = 0;
  }
}

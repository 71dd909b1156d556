// A synthetic night camera from ffmpeg's lavfi sources: a moving test scene, darkened to a few
// percent of its light, with temporal sensor-like noise. Used by the demo and by tests, so
// nothing from outside the project is needed to see the enhancer work. Pure: builds a string.

export interface SyntheticScene {
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  /** Seconds; omitted = endless. */
  readonly duration?: number;
  /** Fraction of the light kept (0.1 = 10%). */
  readonly exposure?: number;
  /** Noise strength (ffmpeg noise filter, 0–100). */
  readonly noise?: number;
}

export function syntheticSceneGraph(s: SyntheticScene): string {
  const dur = s.duration !== undefined ? `:duration=${s.duration}` : '';
  const k = s.exposure ?? 0.12;
  // testsrc2 moves every frame; lutrgb scales light linearly-ish in 8-bit; noise adds grain over time.
  return `testsrc2=size=${s.width}x${s.height}:rate=${s.fps}${dur},` +
    `lutrgb=r=val*${k}:g=val*${k}:b=val*${k},noise=alls=${s.noise ?? 6}:allf=t+u`;
}

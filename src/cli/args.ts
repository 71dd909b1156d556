// Parsing and checking command-line values, once, at the edge.
import { MAX_STRENGTH } from '../enhance/graph.js';
import { PieError } from '../errors.js';
import type { MonoMode } from '../enhance/camera-tone.js';
import { PROVIDER_CHOICES, type ProviderChoice } from '../enhance/session.js';
import { GLOBAL_MOTION_MODES, type GlobalMotionMode } from '../denoise/global-motion.js';
import type { CurveForm, ExposureSetting } from '../enhance/tone.js';
import { LOSS_PRESETS, type LossPreset, type LossWeights } from '../train/step.js';

/** "1", "1/4", "0.25" → the integer downscale factor (4). */
export function parseScale(s: string): number {
  const t = s.trim();
  const frac = /^1\s*\/\s*(\d+)$/.exec(t);
  const k = frac ? Number(frac[1]) : 1 / Number(t);
  const rounded = Math.round(k);
  if (!Number.isFinite(k) || rounded < 1 || Math.abs(k - rounded) > 1e-6 || rounded > 64) {
    const hint = Number(t) > 1 ? ` (did you mean 1/${t}?)` : '';
    throw new PieError('usage', `--scale ${s} is not 1/k for an integer k from 1 to 64${hint}`, 'use --scale 1, 1/2, 1/4 or 1/8 (curve maps estimated at that fraction of the frame size)');
  }
  return rounded;
}

export function parseProvider(s: string): ProviderChoice {
  if ((PROVIDER_CHOICES as readonly string[]).includes(s)) return s as ProviderChoice;
  throw new PieError('usage', `--ep ${s} is not an execution provider`, `use one of ${PROVIDER_CHOICES.join(', ')}`);
}

export function parsePositiveInt(flag: string, s: string, max = 1024): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new PieError('usage', `${flag} ${s} must be an integer from 1 to ${max}`, `e.g. ${flag} 4`);
  return n;
}

/** A curve strength: the one range the config and the graph use too (MAX_STRENGTH). */
export function parseStrength(s: string, flag = '--strength'): number {
  const x = Number(s);
  if (!(x >= 0 && x <= MAX_STRENGTH)) throw new PieError('usage', `${flag} ${s} must be a number from 0 to ${MAX_STRENGTH}`, `e.g. ${flag} 0.7 for a gentler curve`);
  return x;
}

/** A target mean brightness strictly between 0 and 1. */
export function parseExposure(s: string, flag = '--exposure'): ExposureSetting {
  if (s === 'auto' || s === 'model') return s;
  const x = Number(s);
  if (!(x > 0 && x < 1)) throw new PieError('usage', `${flag} ${s} must be auto, model or a mean brightness between 0 and 1`, `e.g. ${flag} auto (scene-adaptive, the default) or ${flag} 0.45`);
  return x;
}

/** A number from 0 to 1. */
export function parseFraction(flag: string, s: string): number {
  const x = Number(s);
  if (!(x >= 0 && x <= 1)) throw new PieError('usage', `${flag} ${s} must be a number from 0 to 1`, `e.g. ${flag} 0.5`);
  return x;
}

/** --color: how curves are applied (tone.ts CurveForm). */
export function parseColor(s: string, flag = '--color'): CurveForm {
  if (s === 'value' || s === 'rgb') return s;
  throw new PieError('usage', `${flag} ${s} is not value or rgb`, `use ${flag} value (one curve on max(R,G,B): colour kept, grey stays grey; the default) or ${flag} rgb (per channel, as PIE)`);
}

/** --mono: monochrome (IR) mode. */
export function parseMono(s: string): MonoMode {
  if (s === 'auto' || s === 'on' || s === 'off') return s;
  throw new PieError('usage', `--mono ${s} is not auto, on or off`, 'use --mono auto (videos: detected with hysteresis), on (luminance only) or off');
}

/** What the temporal denoiser does when the view moves (eval --face-video, --synthetic-video). */
export function parseGlobalMotion(s: string): GlobalMotionMode {
  if ((GLOBAL_MOTION_MODES as readonly string[]).includes(s)) return s as GlobalMotionMode;
  throw new PieError('usage', `--global-motion ${s} is not ${GLOBAL_MOTION_MODES.join(', ')}`, 'use --global-motion shift (the state follows a pan or zoom; the default), reset or off');
}

/** A loss preset's weights by name (train, adapt). */
export function parsePreset(s: string): LossWeights {
  if (s in LOSS_PRESETS) return LOSS_PRESETS[s as LossPreset];
  throw new PieError('usage', `--preset ${s} is not one of ${Object.keys(LOSS_PRESETS).join(', ')}`, 'e.g. --preset pie-exposure');
}

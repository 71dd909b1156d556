// `pie-stream eval`: opens the enhancers named on the command line, runs the report, prints where
// it went. Stages are closed whatever happens.
import { PieError } from '../errors.js';
import { openStage, type EvalStage, type ModelDefaults } from '../eval/enhancers.js';
import { runEval, type EvalOptions, type EvalReport } from '../eval/report.js';
import type { GlobalMotionMode } from '../denoise/global-motion.js';
import { runSyntheticVideo, type SyntheticVideoReport } from '../eval/synthetic-video.js';
import { Progress } from './progress.js';

/** The report's options with enhancers named (specs) instead of opened. */
export type EvalCommandOptions = Omit<EvalOptions, 'stages' | 'onProgress' | 'gridRows'> & ModelDefaults & {
  readonly enhancers: readonly string[];
  readonly quiet?: boolean;
};

export async function runEvalCommand(o: EvalCommandOptions, log: (s: string) => void): Promise<EvalReport> {
  if (!o.real.length && !o.synthetic.length && !o.videos.length && !o.noharm?.length) {
    throw new PieError('usage', 'nothing to evaluate', 'give --images <dir> (real low light), --synthetic <dir> (normal-light photos to darken), --noharm <dir> (normal-light photos kept) or --video <file>');
  }
  const stages: EvalStage[] = [];
  try {
    for (const spec of o.enhancers) stages.push(await openStage(spec, o));
    const names = new Set<string>();
    for (const s of stages) {
      if (names.has(s.name)) throw new PieError('usage', `two enhancers are called ${s.name}`, 'name them: --enhancer a=models/x.onnx --enhancer b=models/y.onnx');
      names.add(s.name);
    }
    const bar = new Progress('eval', 1, process.stderr, o.quiet);
    const report = await runEval({ ...o, stages, onProgress: (d, t, note) => bar.update(d, t, note) });
    bar.done();
    log(`wrote ${o.out}/report.md, report.json and ${report.datasets.length} grid(s)`);
    return report;
  } finally {
    await Promise.all(stages.map((s) => s.close()));
  }
}

export interface SyntheticVideoCommandOptions extends ModelDefaults {
  readonly clip: string;
  readonly out: string;
  readonly enhancers: readonly string[];
  readonly peers: readonly string[];
  readonly fullWells: readonly number[];
  readonly seed: number;
  readonly seconds: number;
  readonly width: number;
  readonly denoiseStrength?: number;
  /** The temporal denoiser's handling of view motion (default shift). */
  readonly globalMotion?: GlobalMotionMode;
  readonly quiet?: boolean;
}

/** `eval --synthetic-video`: only models (.onnx specs) get the temporal and video-denoiser rows. */
export async function runSyntheticVideoCommand(o: SyntheticVideoCommandOptions, log: (s: string) => void): Promise<SyntheticVideoReport> {
  const models: EvalStage[] = [];
  try {
    for (const spec of o.enhancers) models.push(await openStage(spec, o));
    const bar = new Progress('synthetic video', 1, process.stderr, o.quiet);
    const report = await runSyntheticVideo({
      clip: o.clip, out: o.out, models, peers: o.peers, fullWells: o.fullWells, seed: o.seed, seconds: o.seconds, width: o.width,
      denoise: { ...(o.denoiseStrength !== undefined ? { strength: o.denoiseStrength } : {}), ...(o.globalMotion ? { globalMotion: o.globalMotion } : {}) },
      ...(o.threads ? { threads: o.threads } : {}), onProgress: (d, t, note) => bar.update(d, t, note),
    });
    bar.done();
    log(`wrote ${o.out}/synthetic-video.md, synthetic-video.json and ${report.grid}`);
    return report;
  } finally {
    await Promise.all(models.map((s) => s.close()));
  }
}

// The command line's file arguments, shared by the commands that take "files or folders" and write
// one output per input (enhance, detect): folders expanded one level, missing inputs and unknown
// files reported without stopping the run, and outputs that would overwrite an input refused.
import fs from 'node:fs';
import path from 'node:path';
import { PieError } from '../errors.js';

export interface InputFailure { readonly input: string; readonly message: string }

export interface InputFile {
  readonly file: string;
  /** Found by listing a folder. */
  readonly inFolder: boolean;
}

const NOT_MEDIA = 'not an image (jpg, png, bmp, webp) or a video (mp4, mkv, mov, avi, webm, ts)';

/**
 * Media files named and media files inside folders named, in order. A path that does not exist, or
 * a file named that is not media, is a failure; other files in a folder (labels .json, notes) are
 * skipped and listed in `skipped` (hidden ones not even that), so they do not fail the run.
 */
export function expandInputs(inputs: readonly string[], isMedia: (file: string) => boolean): { files: InputFile[]; failed: InputFailure[]; skipped: string[] } {
  const files: InputFile[] = [];
  const failed: InputFailure[] = [];
  const skipped: string[] = [];
  for (const input of inputs) {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(input);
    } catch {
      failed.push({ input, message: `${input}: no such file or folder\n  fix: check the path (relative paths start from ${process.cwd()})` });
      continue;
    }
    if (!stat.isDirectory()) {
      if (isMedia(input)) files.push({ file: input, inFolder: false });
      else failed.push({ input, message: `${input}: ${NOT_MEDIA}` });
      continue;
    }
    for (const f of fs.readdirSync(input).sort().map((n) => path.join(input, n))) {
      if (!fs.statSync(f).isFile()) continue;
      if (isMedia(f)) files.push({ file: f, inFolder: true });
      else if (!path.basename(f).startsWith('.')) skipped.push(f);
    }
  }
  return { files, failed, skipped };
}

const realOrResolved = (p: string): string => {
  try {
    return fs.realpathSync(p);
  } catch {
    return path.resolve(p);
  }
};

/**
 * Refuses a plan that would overwrite an input or write two inputs to one file, links resolved.
 * `verb` and `example` go into the fix ("enhance them into separate output folders", "-o enhanced/").
 */
export function checkOutputs(jobs: ReadonlyArray<{ input: string; outputs: readonly string[] }>, verb: string, example: string): void {
  const inputsReal = new Set(jobs.map((j) => realOrResolved(j.input)));
  const seen = new Map<string, string>();
  for (const j of jobs) {
    for (const out of j.outputs) {
      const real = realOrResolved(out);
      if (inputsReal.has(real)) {
        throw new PieError('output', `refusing to overwrite the input ${j.input} (output ${out})`, `choose an output folder other than the input folder, e.g. -o ${example}`);
      }
      const other = seen.get(real);
      if (other && other !== j.input) throw new PieError('output', `${other} and ${j.input} would both be written to ${out}`, `${verb} them into separate output folders`);
      seen.set(real, j.input);
    }
  }
}

// The command line's file arguments, shared by the commands that take "files or folders" and write
// one output per input (enhance, detect): folders expanded one level, missing inputs and unknown
// files reported without stopping the run, and outputs that would overwrite an input refused.
import fs from 'node:fs';
import path from 'node:path';
import { PieError } from '../errors.js';

export interface InputFailure { readonly input: string; readonly message: string }

export interface InputFile {
  readonly file: string;
  /** Found by listing a folder (hidden unknown files there are skipped silently). */
  readonly inFolder: boolean;
}

/** Files named and files inside folders named, in order; a path that does not exist is a failure. */
export function expandInputs(inputs: readonly string[]): { files: InputFile[]; failed: InputFailure[] } {
  const files: InputFile[] = [];
  const failed: InputFailure[] = [];
  for (const input of inputs) {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(input);
    } catch {
      failed.push({ input, message: `${input}: no such file or folder` });
      continue;
    }
    if (!stat.isDirectory()) { files.push({ file: input, inFolder: false }); continue; }
    for (const f of fs.readdirSync(input).sort().map((n) => path.join(input, n))) {
      if (fs.statSync(f).isFile()) files.push({ file: f, inFolder: true });
    }
  }
  return { files, failed };
}

/** A file that is neither an image nor a video: a failure, except hidden files found in a folder. */
export function unknownFile(f: InputFile): InputFailure | undefined {
  if (f.inFolder && path.basename(f.file).startsWith('.')) return undefined;
  return { input: f.file, message: `${f.file}: not an image (jpg, png, bmp, webp) or a video (mp4, mkv, mov, avi, webm, ts)` };
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

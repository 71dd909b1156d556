// What every benchmark prints and records about where it ran.
import os from 'node:os';
import { ort } from '../src/enhance/session.js';

export interface Machine { cpu: string; cores: number; memGiB: number; node: string; onnxruntime: string; platform: string }

export function machine(): Machine {
  return {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.availableParallelism(),
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    onnxruntime: ort.env.versions.node ?? '?',
    platform: `${os.platform()} ${os.arch()}`,
  };
}

export const describeMachine = (m: Machine): string =>
  `${m.cpu}, ${m.cores} cores, ${m.memGiB} GiB, ${m.platform}, Node ${m.node}, onnxruntime-node ${m.onnxruntime}`;

/** Median of timed runs after one warm-up; at least `minRuns`, more until `minSeconds` pass. */
export interface Timing { medianMs: number; minMs: number; maxMs: number; runs: number }

export async function timeIt(fn: () => Promise<unknown>, minRuns = 3, minSeconds = 1.5, maxRuns = 20): Promise<Timing> {
  await fn();
  const ts: number[] = [];
  const t0 = performance.now();
  while (ts.length < maxRuns && (ts.length < minRuns || performance.now() - t0 < minSeconds * 1000)) {
    const t = performance.now();
    await fn();
    ts.push(performance.now() - t);
  }
  ts.sort((a, b) => a - b);
  const mid = ts.length / 2;
  const medianMs = ts.length % 2 ? ts[Math.floor(mid)]! : (ts[mid - 1]! + ts[mid]!) / 2;
  return { medianMs, minMs: ts[0]!, maxMs: ts[ts.length - 1]!, runs: ts.length };
}

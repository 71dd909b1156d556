// Synthetic frames with motion and a known mean, and a way to run ffmpeg/ffprobe on bytes in memory.
import { FfmpegProcess, lastLine } from '../../src/ingest/ffmpeg-process.js';
import type { Frame } from '../../src/ingest/frame.js';

const LOW = 30;
const HIGH = 90;
/** Mean brightness of barFrame() in [0,1]: half the pixels LOW, half HIGH, whatever the shift. */
export const BAR_MEAN = (LOW + HIGH) / 2 / 255;

/** Vertical bars (period 32 px) moving 4 px a frame; width must be a multiple of 32 to keep the mean exact. */
export function barFrame(camera: string, seq: number, width: number, height: number): Frame {
  const data = new Uint8Array(width * height * 3);
  for (let x = 0; x < width; x++) {
    const v = (x + 4 * seq) % 32 < 16 ? LOW : HIGH;
    for (let y = 0; y < height; y++) data.fill(v, (y * width + x) * 3, (y * width + x) * 3 + 3);
  }
  return { camera, seq, ptsMs: seq * 100, width, height, data };
}

/** Frames of uniform noise (the encoder cannot compress them, so the bitrate is reached). */
export function noiseFrames(n: number, width: number, height: number): Uint8Array[] {
  let s = 12345;
  return Array.from({ length: n }, () => {
    const d = new Uint8Array(width * height * 3);
    for (let i = 0; i < d.length; i++) {
      s = (s * 1103515245 + 12345) >>> 0;
      d[i] = s >>> 24;
    }
    return d;
  });
}

export const meanOf = (d: Uint8Array): number => {
  let sum = 0;
  for (const v of d) sum += v;
  return sum / d.length / 255;
};

/** Runs ffmpeg or ffprobe with `input` on stdin and returns its stdout. */
export async function pipeThrough(args: readonly string[], input: Uint8Array, tool: 'ffmpeg' | 'ffprobe' = 'ffmpeg'): Promise<Buffer> {
  const p = await FfmpegProcess.start(args, { tool, stdin: true });
  const out: Buffer[] = [];
  p.stdout.on('data', (c: Buffer) => out.push(c));
  p.stdin!.end(input);
  const exit = await p.exited;
  if (exit.code !== 0) throw new Error(`${tool} failed (${exit.code}): ${lastLine(exit.stderrTail)}`);
  return Buffer.concat(out);
}

/** True while a process with this pid exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

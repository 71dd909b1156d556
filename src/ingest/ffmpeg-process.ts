// ffmpeg as a supervised child (mediasoup's Worker habit): spawned with an argument array,
// "failed to start" told apart from "died later", stderr kept as a bounded, redacted tail,
// and close() safe to call any number of times.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { PieError } from '../errors.js';
import { resolveTool, type ResolveOptions, type Tool } from './ffmpeg-bin.js';
import { redact } from './redact.js';

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** True when we asked it to stop (close()), so a non-zero code is expected. */
  readonly closedByUs: boolean;
  readonly stderrTail: string;
}

const STDERR_TAIL_BYTES = 8 * 1024;

export interface SpawnOptions extends ResolveOptions {
  readonly tool?: Tool;
  readonly stdin?: boolean;
  /** Written to stdin, which is then closed (an input script; never on the command line). */
  readonly stdinText?: string;
  /** Grace period between SIGTERM and SIGKILL in close(). */
  readonly killAfterMs?: number;
}

export class FfmpegProcess {
  readonly stdout: Readable;
  readonly stdin: Writable | null;
  /** Resolves when the process has exited (never rejects). */
  readonly exited: Promise<Exit>;
  private readonly child: ChildProcess;
  private tail = '';
  private closing = false;
  private exitInfo: Exit | undefined;

  private constructor(child: ChildProcess, private readonly killAfterMs: number) {
    this.child = child;
    this.stdout = child.stdout!;
    this.stdin = child.stdin ?? null;
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (s: string) => {
      this.tail = (this.tail + s).slice(-STDERR_TAIL_BYTES);
    });
    // A consumer that stops reading must not get EPIPE as an uncaught error.
    this.stdin?.on('error', () => {});
    this.exited = new Promise<Exit>((resolve) => {
      child.once('close', (code, signal) => {
        this.exitInfo = { code, signal, closedByUs: this.closing, stderrTail: redact(this.tail.trim()) };
        resolve(this.exitInfo);
      });
    });
  }

  /** Spawns and waits for the OS to start it: rejects with 'ffmpeg-missing' if it cannot start. */
  static async start(args: readonly string[], o: SpawnOptions = {}): Promise<FfmpegProcess> {
    const tool = resolveTool(o.tool ?? 'ffmpeg', o);
    const child = spawn(tool.path, args, { stdio: [o.stdin || o.stdinText !== undefined ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (e) => reject(new PieError('ffmpeg-missing', `${tool.path} could not start: ${e.message}`,
        'check the ffmpeg path is an executable binary (see PIE_FFMPEG)', { cause: e })));
    });
    const p = new FfmpegProcess(child, o.killAfterMs ?? 2000);
    if (o.stdinText !== undefined) p.stdin?.end(o.stdinText);
    return p;
  }

  get pid(): number | undefined { return this.child.pid; }
  get running(): boolean { return this.exitInfo === undefined; }
  get stderrTail(): string { return redact(this.tail.trim()); }

  /** Stops the process (SIGTERM, then SIGKILL after the grace period) and waits for it. Idempotent. */
  async close(): Promise<Exit> {
    if (this.exitInfo) return this.exitInfo;
    if (!this.closing) {
      this.closing = true;
      this.stdin?.destroy();
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), this.killAfterMs);
      void this.exited.finally(() => clearTimeout(timer));
    }
    return this.exited;
  }
}

/** The last line of an ffmpeg error tail, for one-line messages. */
export function lastLine(tail: string): string {
  const lines = tail.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines[lines.length - 1] ?? '(no output)';
}

/** Runs a tool to completion and returns stdout; rejects with 'ffmpeg-failed' on a non-zero exit. */
export async function runTool(args: readonly string[], o: SpawnOptions = {}): Promise<Buffer> {
  const p = await FfmpegProcess.start(args, o);
  const chunks: Buffer[] = [];
  p.stdout.on('data', (c: Buffer) => chunks.push(c));
  const exit = await p.exited;
  if (exit.code !== 0) {
    throw new PieError('ffmpeg-failed', `${o.tool ?? 'ffmpeg'} failed (exit ${exit.code ?? exit.signal}): ${lastLine(exit.stderrTail)}`);
  }
  return Buffer.concat(chunks);
}

/**
 * Runs a user's shell command to completion (`pie-stream eval`'s command enhancers). Lives here
 * because this is the one file that spawns; stderr's tail is kept, bounded, for the error.
 */
export async function runCommand(command: string): Promise<void> {
  const child = spawn('/bin/sh', ['-c', command], { stdio: ['ignore', 'ignore', 'pipe'] });
  let tail = '';
  child.stderr.on('data', (c: Buffer) => { tail = (tail + c.toString('utf8')).slice(-STDERR_TAIL_BYTES); });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', (e) => reject(new PieError('usage', `cannot run '${redact(command)}': ${e.message}`, 'check the command', { cause: e })));
    child.once('close', (c) => resolve(c));
  });
  if (code !== 0) throw new PieError('output', `command '${redact(command)}' failed (exit ${code}): ${lastLine(redact(tail))}`, 'run the command by hand on one image to see why');
}

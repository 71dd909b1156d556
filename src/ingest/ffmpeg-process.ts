// ffmpeg as a supervised child (mediasoup's Worker habit): spawned with an argument array,
// "failed to start" told apart from "died later", stderr kept as a bounded, redacted tail,
// and close() safe to call any number of times.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { promisify } from 'node:util';
import { PieError } from '../errors.js';
import { rawFrames } from './frame-splitter.js';
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
  /**
   * stdout carries packed frames of `bytes` each, read by frames() into buffers from `take`. Where
   * the OS has FIFOs, stdout is one, read with net.Socket's `onread` straight into the frame being
   * filled: no 64 kB buffer per read and no copy (each counted by V8 as external memory, which made
   * the main thread collect garbage several times a second at 720p). Elsewhere, the usual pipe.
   */
  readonly frames?: FrameOutput;
}

export interface FrameOutput {
  readonly bytes: number;
  /** A buffer of `bytes` for the next frame (a FrameStore's take); the consumer keeps what frames() yields. */
  readonly take: () => Uint8Array;
}

/** Frames read ahead of a slow consumer before the FIFO is paused (ffmpeg then waits on a full pipe, as with stdout). */
const FRAMES_AHEAD = 2;

export class FfmpegProcess {
  /** The child's stdout; with `frames` on a FIFO, the FIFO's socket (read by frames(), not as a stream). */
  readonly stdout: Readable;
  readonly stdin: Writable | null;
  /** Resolves when the process has exited (never rejects). */
  readonly exited: Promise<Exit>;
  private readonly child: ChildProcess;
  private tail = '';
  private closing = false;
  private exitInfo: Exit | undefined;
  private framesStarted = false;

  private constructor(child: ChildProcess, private readonly killAfterMs: number, private readonly frameOut?: FrameOutput, private readonly fifo?: FifoReader) {
    this.child = child;
    this.stdout = fifo?.socket ?? child.stdout!;
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
    const fifo = o.frames ? await openFifo(o.frames) : null;
    let child: ChildProcess;
    try {
      child = spawn(tool.path, args, { stdio: [o.stdin || o.stdinText !== undefined ? 'pipe' : 'ignore', fifo ? fifo.childFd : 'pipe', 'pipe'] });
    } catch (e) {
      fifo?.socket.destroy();
      throw e;
    } finally {
      // The child holds the FIFO's write end now (or failed to start); ours is closed so its exit ends our reads.
      fifo?.spawned();
    }
    try {
      await new Promise<void>((resolve, reject) => {
        child.once('spawn', resolve);
        child.once('error', (e) => reject(new PieError('ffmpeg-missing', `${tool.path} could not start: ${e.message}`,
          'check the ffmpeg path is an executable binary (see PIE_FFMPEG)', { cause: e })));
      });
    } catch (e) {
      fifo?.socket.destroy();
      throw e;
    }
    const p = new FfmpegProcess(child, o.killAfterMs ?? 2000, o.frames, fifo ?? undefined);
    // A FIFO nobody reads is closed when the process ends; one being read ends with its reader (its last frames may still be in it).
    if (fifo) void p.exited.finally(() => { if (!p.framesStarted) fifo.socket.destroy(); });
    if (o.stdinText !== undefined) p.stdin?.end(o.stdinText);
    return p;
  }

  /**
   * stdout's frames, whole, in order, until it ends (a trailing partial frame is dropped: ffmpeg
   * writes whole frames). Needs the `frames` option; one reader per process.
   */
  frames(): AsyncGenerator<Uint8Array> {
    if (!this.frameOut) throw new RangeError('frames() needs the frames option of FfmpegProcess.start');
    if (this.framesStarted) throw new RangeError('frames() was already called on this process');
    this.framesStarted = true;
    return this.fifo ? this.fifo.frames() : rawFrames(this.stdout, this.frameOut.bytes, this.frameOut.take);
  }

  /** Whether stdout's frames come through a FIFO read in place (false: the pipe, copied from its reads). */
  get readsInPlace(): boolean { return this.fifo !== undefined; }

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

/**
 * A FIFO for a child's stdout, read in place: each read lands in the frame being filled (onread's
 * buffer is the rest of it), a full frame is queued for frames(), and reading pauses while
 * FRAMES_AHEAD frames wait. Made in a private folder and unlinked once both ends are open.
 */
interface FifoReader {
  readonly socket: net.Socket;
  /** The write end, for the child's stdio. */
  readonly childFd: number;
  /** Closes our copy of the write end (after spawn). */
  spawned(): void;
  frames(): AsyncGenerator<Uint8Array>;
}

const execFileP = promisify(execFile);

/** null where FIFOs cannot be made (Windows, no mkfifo): the caller uses the pipe. */
async function openFifo(out: FrameOutput): Promise<FifoReader | null> {
  if (process.platform === 'win32') return null;
  let dir: string | undefined;
  let readFd: number | undefined, writeFd: number | undefined;
  try {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pie-fifo-'));
    const fifoPath = path.join(dir, 'stdout');
    await execFileP('mkfifo', ['-m', '600', fifoPath]);
    // Read end first, non-blocking, so opening the write end does not wait for a reader.
    readFd = fs.openSync(fifoPath, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    writeFd = fs.openSync(fifoPath, fs.constants.O_WRONLY);
  } catch {
    if (readFd !== undefined) fs.closeSync(readFd);
    if (writeFd !== undefined) fs.closeSync(writeFd);
    return null;
  } finally {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }
  const ready: Uint8Array[] = [];
  let frame = out.take(), filled = 0;
  let ended = false, paused = false, failed: Error | undefined;
  let wake: (() => void) | undefined;
  const notify = (): void => { const w = wake; wake = undefined; w?.(); };
  // onread is a constructor option since Node 12; @types/node lists it under connect() only.
  const options: net.SocketConstructorOpts & { onread: net.OnReadOpts } = {
    fd: readFd, readable: true, writable: false,
    onread: {
      buffer: () => frame.subarray(filled),
      callback: (n: number): boolean => {
        filled += n;
        if (filled === out.bytes) {
          ready.push(frame);
          frame = out.take();
          filled = 0;
          notify();
        }
        // false pauses reading until frames() catches up (net.Socket's resume() starts it again).
        paused = ready.length >= FRAMES_AHEAD;
        return !paused;
      },
    },
  };
  const socket = new net.Socket(options);
  socket.on('end', () => { ended = true; notify(); });
  socket.on('close', () => { ended = true; notify(); });
  socket.on('error', (e) => { failed = e; notify(); });
  const w = writeFd;
  return {
    socket,
    childFd: w,
    spawned: () => fs.closeSync(w),
    async *frames() {
      try {
        for (;;) {
          const f = ready.shift();
          if (f) {
            if (paused) {
              paused = false;
              socket.resume();
            }
            yield f;
            continue;
          }
          if (failed) throw failed;
          if (ended) return;
          await new Promise<void>((resolve) => { wake = resolve; });
        }
      } finally {
        socket.destroy();
      }
    },
  };
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

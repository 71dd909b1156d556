// HLS per (camera, variant): one ffmpeg encoding the raw frames it is handed into a live playlist
// of short segments, old segments deleted. Never blocks the pipeline: a frame that arrives while
// ffmpeg's stdin is not draining is dropped and counted.
import fs from 'node:fs';
import path from 'node:path';
import type { Frame } from '../ingest/frame.js';
import { FfmpegProcess, lastLine, type Exit } from '../ingest/ffmpeg-process.js';
import { releaseFrame, retainFrame } from '../ingest/frame-store.js';
import type { ResolveOptions } from '../ingest/ffmpeg-bin.js';
import type { DropSink } from '../pipeline/dropCounter.js';
import { PieError } from '../errors.js';
import { hlsFromRawArgs, type HlsOptions } from './ffmpeg-output-args.js';

export interface EncoderInputStats {
  /** Frames handed to ffmpeg. */
  readonly framesWritten: number;
  /** Frames dropped because ffmpeg was not keeping up (or had exited). */
  readonly framesDropped: number;
}

/**
 * The stdin side shared by the HLS and JSMpeg writers: at most one frame waits in the pipe's
 * buffer; while it does ('drain' not yet heard), newer frames are dropped and reported as 'encoder'
 * (told apart from inference's 'busy', so the status can say which stage is behind).
 */
export class EncoderInput {
  private blocked = false;
  private written = 0;
  private dropped = 0;
  private readonly drainWaiters: Array<() => void> = [];

  constructor(private readonly proc: FfmpegProcess, private readonly camera: string,
    private readonly width: number, private readonly height: number, private readonly drops?: DropSink) {
    proc.stdin!.on('drain', () => this.unblock());
    // A dead encoder never drains; waiters must not hang.
    void proc.exited.then(() => this.unblock());
  }

  /** Hands a frame to ffmpeg; false when it was dropped. Never blocks, never queues more than one frame. */
  write(frame: Frame): boolean {
    if (frame.width !== this.width || frame.height !== this.height || frame.data.length !== this.width * this.height * 3) {
      // A frame of another size would shear every later frame of the raw stream.
      throw new RangeError(`frame ${frame.width}×${frame.height} (${frame.data.length} B) does not match the encoder's ${this.width}×${this.height} RGB24`);
    }
    const stdin = this.proc.stdin!;
    if (this.blocked || !this.proc.running || stdin.writableEnded || stdin.destroyed) {
      this.dropped++;
      this.drops?.drop(this.camera, 'encoder');
      return false;
    }
    this.written++;
    // The pipe may take the pixels later: held until it has (frame-store.ts), then given back.
    const data = frame.data;
    retainFrame(data);
    this.blocked = !stdin.write(data, () => releaseFrame(data));
    return true;
  }

  /** Resolves when a write would be accepted (for sources that may wait, e.g. files and tests). */
  ready(): Promise<void> {
    if (!this.blocked) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  stats(): EncoderInputStats {
    return { framesWritten: this.written, framesDropped: this.dropped };
  }

  /** Ends stdin so ffmpeg flushes and exits; kills it if it has not after `graceMs`. */
  async end(graceMs: number): Promise<Exit> {
    const stdin = this.proc.stdin!;
    if (!stdin.writableEnded && !stdin.destroyed) stdin.end();
    const timer = setTimeout(() => void this.proc.close(), graceMs);
    try {
      return await this.proc.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  private unblock(): void {
    this.blocked = false;
    for (const w of this.drainWaiters.splice(0)) w();
  }
}

export interface HlsWriterOptions extends Omit<HlsOptions, 'playlist' | 'width' | 'height' | 'fps'> {
  readonly camera: string;
  /** 'raw' or 'enhanced' (any name: it only labels). */
  readonly variant: string;
  /** The camera's processing size and rate: every frame written must have this size. */
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  /** Folder for this (camera, variant); created if missing. The playlist is `index.m3u8` in it. */
  readonly dir: string;
  readonly drops?: DropSink;
  readonly ffmpeg?: ResolveOptions;
  /** How long close() lets ffmpeg flush before killing it. */
  readonly closeGraceMs?: number;
}

export interface HlsStats extends EncoderInputStats {
  readonly camera: string;
  readonly variant: string;
  readonly playlist: string;
  readonly running: boolean;
}

export class HlsWriter {
  /** Resolves when ffmpeg has exited, for whoever supervises (restart policy is not decided here). */
  readonly exited: Promise<Exit>;
  private closing: Promise<Exit> | undefined;

  private constructor(private readonly o: HlsWriterOptions, readonly playlist: string,
    private readonly proc: FfmpegProcess, private readonly input: EncoderInput) {
    this.exited = proc.exited;
  }

  static async start(o: HlsWriterOptions): Promise<HlsWriter> {
    try {
      fs.mkdirSync(o.dir, { recursive: true });
    } catch (e) {
      throw new PieError('output', `cannot create the HLS folder ${o.dir}: ${(e as Error).message}`, 'check the output folder is writable', { cause: e });
    }
    const playlist = path.join(o.dir, 'index.m3u8');
    const proc = await FfmpegProcess.start(hlsFromRawArgs({ ...o, playlist }), { ...o.ffmpeg, stdin: true });
    return new HlsWriter(o, playlist, proc, new EncoderInput(proc, o.camera, o.width, o.height, o.drops));
  }

  get pid(): number | undefined { return this.proc.pid; }

  /** Hands a frame to the encoder; false when it was dropped (counted). Never blocks. */
  write(frame: Frame): boolean {
    return this.input.write(frame);
  }

  /** Resolves when the next write would be accepted. */
  ready(): Promise<void> {
    return this.input.ready();
  }

  stats(): HlsStats {
    return { camera: this.o.camera, variant: this.o.variant, playlist: this.playlist, running: this.proc.running, ...this.input.stats() };
  }

  /** Ends the stream (ffmpeg writes the last segment and ends the playlist) and waits for ffmpeg. Idempotent. */
  close(): Promise<Exit> {
    this.closing ??= this.input.end(this.o.closeGraceMs ?? 5000);
    return this.closing;
  }

  /** One line on why ffmpeg stopped, for status and logs. */
  lastError(): string {
    return lastLine(this.proc.stderrTail);
  }
}

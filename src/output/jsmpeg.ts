// The WebSocket live stream in node-rtsp-stream's wire protocol, so JSMpeg viewers work unchanged:
// each client first gets an 8-byte binary message, "jsmp" then width and height as UInt16
// big-endian, then MPEG-TS (MPEG-1 video) as binary messages. One ffmpeg per (camera, variant);
// its output is broadcast to every client. A client whose send buffer is over the bound has chunks
// skipped and counted for it alone, so no viewer can block the others or grow our memory.
import { WebSocket } from 'ws';
import type { Frame } from '../ingest/frame.js';
import { FfmpegProcess, lastLine, type Exit } from '../ingest/ffmpeg-process.js';
import type { ResolveOptions } from '../ingest/ffmpeg-bin.js';
import type { DropSink } from '../pipeline/dropCounter.js';
import { evenSize, mpegTsFromRawArgs } from './ffmpeg-output-args.js';
import { EncoderInput, type EncoderInputStats } from './hls.js';

const MAGIC = 'jsmp';
const TS_PACKET = 188;

/** node-rtsp-stream's stream header: struct { char magic[4]; uint16be width, height; }. */
export function jsmpegHeader(width: number, height: number): Buffer {
  const h = Buffer.alloc(8);
  h.write(MAGIC, 0, 'ascii');
  h.writeUInt16BE(width, 4);
  h.writeUInt16BE(height, 6);
  return h;
}

export interface JsmpegStreamOptions {
  readonly camera: string;
  readonly variant: string;
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  /** MPEG-1 bitrate in kbit/s; default from size and rate. */
  readonly kbps?: number;
  /** A client with more than this many bytes queued has chunks skipped. */
  readonly maxBufferedBytes?: number;
  readonly drops?: DropSink;
  readonly ffmpeg?: ResolveOptions;
  readonly closeGraceMs?: number;
}

export interface JsmpegClientStats {
  readonly id: number;
  readonly bytesSent: number;
  readonly chunksDropped: number;
  readonly bufferedAmount: number;
}

export interface JsmpegStats extends EncoderInputStats {
  readonly camera: string;
  readonly variant: string;
  readonly running: boolean;
  readonly clients: number;
  /** Totals over every client, past ones included. */
  readonly bytesSent: number;
  readonly chunksDropped: number;
  readonly perClient: readonly JsmpegClientStats[];
}

interface Client {
  readonly id: number;
  readonly ws: WebSocket;
  bytesSent: number;
  chunksDropped: number;
}

export class JsmpegStream {
  readonly exited: Promise<Exit>;
  /** The size in the header: the encoded size (odd sizes are padded to even by the encoder). */
  readonly encodedWidth: number;
  readonly encodedHeight: number;
  private readonly clients = new Map<WebSocket, Client>();
  private nextId = 1;
  private bytesSent = 0;
  private chunksDropped = 0;
  /** Bytes of an unfinished TS packet: chunks go out as whole packets, so a skip never splits one. */
  private partial: Buffer = Buffer.alloc(0);
  private closing: Promise<Exit> | undefined;
  private readonly maxBuffered: number;

  private constructor(private readonly o: JsmpegStreamOptions, private readonly proc: FfmpegProcess, private readonly input: EncoderInput) {
    ({ width: this.encodedWidth, height: this.encodedHeight } = evenSize(o.width, o.height));
    this.maxBuffered = o.maxBufferedBytes ?? 1024 * 1024;
    this.exited = proc.exited;
    proc.stdout.on('data', (c: Buffer) => this.broadcast(c));
  }

  static async start(o: JsmpegStreamOptions): Promise<JsmpegStream> {
    const proc = await FfmpegProcess.start(mpegTsFromRawArgs(o), { ...o.ffmpeg, stdin: true });
    return new JsmpegStream(o, proc, new EncoderInput(proc, o.camera, o.width, o.height, o.drops));
  }

  get pid(): number | undefined { return this.proc.pid; }

  /** Hands a frame to the encoder; false when it was dropped (counted as 'encoder'). Never blocks. */
  write(frame: Frame): boolean {
    return this.input.write(frame);
  }

  ready(): Promise<void> {
    return this.input.ready();
  }

  /** Takes an upgraded WebSocket: sends the header, then the live stream until either side closes. */
  attach(ws: WebSocket): void {
    if (this.closing || ws.readyState !== WebSocket.OPEN) {
      ws.close(1001, 'stream closed');
      return;
    }
    const client: Client = { id: this.nextId++, ws, bytesSent: 0, chunksDropped: 0 };
    this.clients.set(ws, client);
    const forget = (): void => { this.clients.delete(ws); };
    ws.once('close', forget);
    // A client's socket error is that client's problem: forget it, keep the others.
    ws.on('error', forget);
    this.send(client, jsmpegHeader(this.encodedWidth, this.encodedHeight));
  }

  stats(): JsmpegStats {
    const perClient = [...this.clients.values()].map((c) => ({ id: c.id, bytesSent: c.bytesSent, chunksDropped: c.chunksDropped, bufferedAmount: c.ws.bufferedAmount }));
    return { camera: this.o.camera, variant: this.o.variant, running: this.proc.running, clients: this.clients.size,
      bytesSent: this.bytesSent, chunksDropped: this.chunksDropped, perClient, ...this.input.stats() };
  }

  /**
   * Ends the stream and waits for ffmpeg: stdin is ended first so the last frames are encoded and
   * still go out, then clients get 1001 (going away); a client over the bound is cut at once, as
   * its close frame would wait behind data it is not reading. Idempotent.
   */
  close(): Promise<Exit> {
    this.closing ??= (async () => {
      const exit = await this.input.end(this.o.closeGraceMs ?? 3000);
      for (const ws of this.clients.keys()) {
        if (ws.bufferedAmount > this.maxBuffered) ws.terminate();
        else ws.close(1001, 'stream closed');
      }
      this.clients.clear();
      return exit;
    })();
    return this.closing;
  }

  lastError(): string {
    return lastLine(this.proc.stderrTail);
  }

  private broadcast(chunk: Buffer): void {
    // Cut to whole 188-byte TS packets; the remainder (< 188 B) waits for the next chunk.
    const data = this.partial.length ? Buffer.concat([this.partial, chunk]) : chunk;
    const whole = data.length - (data.length % TS_PACKET);
    this.partial = Buffer.from(data.subarray(whole));
    if (whole === 0) return;
    const packets = data.subarray(0, whole);
    for (const c of this.clients.values()) {
      if (c.ws.readyState !== WebSocket.OPEN) continue;
      if (c.ws.bufferedAmount > this.maxBuffered) {
        // Skip for this client alone; its decoder resyncs on the next picture.
        c.chunksDropped++;
        this.chunksDropped++;
        this.o.drops?.drop(this.o.camera, 'slow-client');
        continue;
      }
      this.send(c, packets);
    }
  }

  private send(c: Client, data: Buffer): void {
    c.ws.send(data, { binary: true });
    c.bytesSent += data.length;
    this.bytesSent += data.length;
  }
}

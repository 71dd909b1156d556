// The HTTP face of the pipeline: /health, camera status, HLS playlists and segments from disk, and
// WebSocket upgrades handed to a camera's live stream. Nothing is served by a path the client
// writes: camera and variant must be known names and file names a strict pattern, so no traversal.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { PieError } from '../errors.js';

export interface HttpServerOptions {
  readonly host: string;
  readonly port: number;
  /** When set, everything but /health needs it (Authorization: Bearer, or ?token=). */
  readonly token?: string;
  /** Folder holding <camera>/<variant>/<playlist and segments>. */
  readonly hlsRoot: string;
  /** Known cameras and their variants with a WebSocket stream. */
  readonly cameras: () => readonly string[];
  readonly health: () => unknown;
  readonly status: () => unknown;
  /** Hands an accepted WebSocket to the camera's stream; false = no such stream (404). */
  readonly attach: (camera: string, variant: string, ws: WebSocket) => boolean;
  readonly hasStream: (camera: string, variant: string) => boolean;
}

const HLS_FILE = /^[A-Za-z0-9_.-]+\.(m3u8|ts|m4s|mp4)$/;
const TYPES: Record<string, string> = { m3u8: 'application/vnd.apple.mpegurl', ts: 'video/mp2t', m4s: 'video/iso.segment', mp4: 'video/mp4' };
const MAX_CLIENTS_PER_ADDRESS = 16;

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

function tokenOk(req: http.IncomingMessage, url: URL, token: string | undefined): boolean {
  if (!token) return true;
  const auth = req.headers.authorization;
  const given = auth?.startsWith('Bearer ') ? auth.slice(7) : url.searchParams.get('token') ?? '';
  const a = Buffer.from(given), b = Buffer.from(token);
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

export class PieHttpServer {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 1024 });
  private readonly perAddress = new Map<string, number>();
  private closed = false;

  private constructor(private readonly server: http.Server, readonly url: string) {}

  static async start(o: HttpServerOptions): Promise<PieHttpServer> {
    const server = http.createServer();
    server.requestTimeout = 30_000;
    server.headersTimeout = 10_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) => {
        reject(e.code === 'EADDRINUSE'
          ? new PieError('config', `port ${o.port} on ${o.host} is already in use`, 'stop the other process, or set server.port in a config (0 picks a free port)', { cause: e })
          : e.code === 'EADDRNOTAVAIL' || e.code === 'ENOTFOUND'
            ? new PieError('config', `cannot listen on ${o.host}: no such address on this machine`, 'set server.host to 127.0.0.1, 0.0.0.0 or an address of this machine', { cause: e })
            : e);
      });
      server.listen(o.port, o.host, () => resolve());
    });
    const addr = server.address() as AddressInfo;
    const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    const s = new PieHttpServer(server, `http://${host}:${addr.port}`);
    server.on('request', (req, res) => s.onRequest(o, req, res));
    server.on('upgrade', (req, socket, head) => s.onUpgrade(o, req, socket, head));
    return s;
  }

  private onRequest(o: HttpServerOptions, req: http.IncomingMessage, res: http.ServerResponse): void {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      sendJson(res, 400, { error: 'malformed request URL' });
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendJson(res, 405, { error: `${req.method} is not allowed; this server only serves GET` });
      return;
    }
    if (url.pathname === '/health') {
      sendJson(res, 200, o.health());
      return;
    }
    if (!tokenOk(req, url, o.token)) {
      sendJson(res, 401, { error: 'a token is required: send Authorization: Bearer <token> or ?token=' });
      return;
    }
    if (url.pathname === '/api/cameras') {
      sendJson(res, 200, o.status());
      return;
    }
    const hls = /^\/hls\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(url.pathname);
    if (hls) {
      const [, camera, variant, file] = hls as unknown as [string, string, string, string];
      if (!o.cameras().includes(camera) || !['raw', 'enhanced'].includes(variant) || !HLS_FILE.test(file)) {
        sendJson(res, 404, { error: `no HLS file ${url.pathname}` });
        return;
      }
      const full = path.join(o.hlsRoot, camera, variant, file);
      fs.stat(full, (err, st) => {
        if (err || !st.isFile()) {
          sendJson(res, 404, { error: `no HLS file ${url.pathname} (yet: the first segment takes a few seconds)` });
          return;
        }
        res.writeHead(200, { 'content-type': TYPES[path.extname(file).slice(1)]!, 'content-length': st.size, 'cache-control': file.endsWith('.m3u8') ? 'no-cache' : 'max-age=60' });
        if (req.method === 'HEAD') { res.end(); return; }
        // The muxer may delete an old segment between stat and read: end the response either way.
        fs.createReadStream(full).on('error', () => res.destroy()).pipe(res);
      });
      return;
    }
    sendJson(res, 404, { error: `nothing at ${url.pathname}`, see: ['/health', '/api/cameras', '/hls/<camera>/<variant>/index.m3u8', 'ws /ws/<camera>/<variant>'] });
  }

  private onUpgrade(o: HttpServerOptions, req: http.IncomingMessage, socket: import('node:stream').Duplex, head: Buffer): void {
    const refuse = (code: number, text: string): void => {
      socket.end(`HTTP/1.1 ${code} ${text}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    };
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      refuse(400, 'Bad Request');
      return;
    }
    if (!tokenOk(req, url, o.token)) { refuse(401, 'Unauthorized'); return; }
    const m = /^\/ws\/([^/]+)\/([^/]+)$/.exec(url.pathname);
    if (!m || !o.hasStream(m[1]!, m[2]!)) { refuse(404, 'Not Found'); return; }
    const who = req.socket.remoteAddress ?? '?';
    if ((this.perAddress.get(who) ?? 0) >= MAX_CLIENTS_PER_ADDRESS) { refuse(429, 'Too Many Requests'); return; }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.perAddress.set(who, (this.perAddress.get(who) ?? 0) + 1);
      ws.once('close', () => this.perAddress.set(who, (this.perAddress.get(who) ?? 1) - 1));
      if (!o.attach(m[1]!, m[2]!, ws)) ws.close(1011, 'stream gone');
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const c of this.wss.clients) c.terminate();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

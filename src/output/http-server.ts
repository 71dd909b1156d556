// The HTTP face of the pipeline: the viewer, /health, the JSON API, /metrics, HLS playlists and
// segments from disk, and WebSocket upgrades handed to a camera's live stream or the detection
// events. Nothing is served by a path the client writes: cameras and variants must be known names,
// HLS file names a strict pattern, viewer files entries of a fixed table, so no traversal.
//
// Access: with a token, everything but /health needs it (Authorization: Bearer, ?token=, or the
// cookie the viewer gets by opening /?token=…); without one the server must be on loopback and
// answers only requests addressed to a loopback name (no DNS rebinding). Bounded: connections and
// WebSockets per client address, URL, header and body sizes; every refusal is a 4xx with JSON.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { isLoopback, type Variant } from '../config/schema.js';
import { PieError, isPieError } from '../errors.js';
import { redact } from '../ingest/redact.js';
import { ApiError, issuesOf, MAX_BODY_BYTES, modelSwitchRequestSchema, statusOfPieError, type ErrorBody, type ModelSwitchRequest } from './api.js';
import { EventHub } from './events.js';
import { loadViewerAssets, type Asset } from './viewer-assets.js';

export interface ServerLimits {
  /** WebSocket clients (video and events) per client address. */
  readonly maxWsPerAddress: number;
  /** Open TCP connections per client address (WebSockets included). */
  readonly maxConnectionsPerAddress: number;
  readonly maxUrlBytes: number;
  readonly maxHeaderBytes: number;
  readonly maxBodyBytes: number;
  /** Open TCP connections in all, WebSockets included: kept below the descriptor limit so ffmpeg and files still open. */
  readonly maxConnections: number;
  /** A connection must send its first request's headers within this (ms), or it is closed. */
  readonly firstRequestTimeoutMs: number;
  /** Wrong tokens from one address allowed before each further try waits (then 250 ms, doubling to 30 s). */
  readonly authFailuresFree: number;
}

/** Descriptors kept free of connections: ffmpeg's pipes (3 per process), HLS files, models, ONNX Runtime. */
export const DESCRIPTOR_RESERVE = 128;
const MAX_CONNECTIONS_CEILING = 4096;

/** The soft limit on open files of this process (Linux /proc), else the usual default of 1024. */
export function descriptorLimit(): number {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'));
    if (m) return m[1] === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(m[1]);
  } catch {
    // Not Linux: assume the common default.
  }
  return 1024;
}

/** The global connection cap for a descriptor limit: a quarter (at least DESCRIPTOR_RESERVE) stays free. */
export function connectionCap(limit: number = descriptorLimit()): number {
  const reserve = Math.max(DESCRIPTOR_RESERVE, Math.ceil(limit / 4));
  return Math.max(8, Math.min(MAX_CONNECTIONS_CEILING, limit - reserve));
}

export const DEFAULT_LIMITS: ServerLimits = {
  maxWsPerAddress: 32,
  maxConnectionsPerAddress: 64,
  maxUrlBytes: 2048,
  maxHeaderBytes: 8192,
  maxBodyBytes: MAX_BODY_BYTES,
  maxConnections: connectionCap(),
  firstRequestTimeoutMs: 10_000,
  authFailuresFree: 5,
};

/** How long a socket we answered with an error may linger for its peer to read it, before it is destroyed. */
const CLOSE_GRACE_MS = 1000;
const AUTH_DELAY_FIRST_MS = 250;
const AUTH_DELAY_MAX_MS = 30_000;
/** Addresses remembered for the token backoff; the oldest is forgotten beyond this. */
const AUTH_TRACKED_MAX = 4096;

export interface HttpServerOptions {
  readonly host: string;
  readonly port: number;
  /** When set, everything but /health needs it. Required when `host` is not loopback. */
  readonly token?: string;
  /** Folder holding <camera>/<variant>/<playlist and segments>. */
  readonly hlsRoot: string;
  /** Known camera names. */
  readonly cameras: () => readonly string[];
  readonly health: () => unknown;
  /** GET /api/cameras. */
  readonly status: () => unknown;
  /** GET /api/stats. */
  readonly stats: () => unknown;
  /** GET /metrics: Prometheus exposition text. */
  readonly metrics: () => Promise<{ readonly contentType: string; readonly body: string }>;
  /** POST /api/cameras/<camera>/model, with the body validated; may throw ApiError or PieError. */
  readonly switchModel: (camera: string, request: ModelSwitchRequest) => Promise<unknown>;
  /** The latest frame of a camera as JPEG; null when there is none yet. */
  readonly snapshot: (camera: string, variant: Variant) => Promise<Uint8Array | null>;
  /** The newest detection with faces of a known camera (a FaceEventResponse); null before the first. May throw ApiError (detection off). */
  readonly latestFaces: (camera: string) => object | null;
  /** That detection's enhanced frame with its boxes drawn, as JPEG; null before the first. */
  readonly latestFacesJpeg: (camera: string) => Promise<Uint8Array | null>;
  /** Hands an accepted WebSocket to the camera's stream; false = no such stream. */
  readonly attach: (camera: string, variant: string, ws: WebSocket) => boolean;
  readonly hasStream: (camera: string, variant: string) => boolean;
  readonly limits?: Partial<ServerLimits>;
}

const HLS_FILE = /^[A-Za-z0-9_.-]+\.(m3u8|ts|m4s|mp4)$/;
const HLS_TYPES: Record<string, string> = { m3u8: 'application/vnd.apple.mpegurl', ts: 'video/mp2t', m4s: 'video/iso.segment', mp4: 'video/mp4' };
const COOKIE = 'pie_token';
const SEE = ['/', '/health', '/metrics', '/api/cameras', '/api/stats', 'POST /api/cameras/<camera>/model', '/api/cameras/<camera>/snapshot.jpg',
  '/api/cameras/<camera>/faces/latest', '/api/cameras/<camera>/faces/latest.jpg',
  '/hls/<camera>/<variant>/index.m3u8', 'ws /ws/<camera>/<variant>', 'ws /ws/<camera>/events', 'ws /ws/events'];

/**
 * JSMpeg compiles its WebAssembly decoder from bytes; hls.js runs its demuxer in a blob: worker and
 * sets inline styles, as JSMpeg does; scripts stay same-origin only.
 */
const VIEWER_CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self' blob:; media-src 'self' blob:; img-src 'self' data: blob:; " +
  "connect-src 'self'; style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";
const SECURITY_HEADERS = { 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'x-frame-options': 'DENY' } as const;

/**
 * Ends a socket after an error answer and destroys it after a short grace, so a peer that never
 * closes its side cannot hold the descriptor (FIN-WAIT-2) for ever.
 */
function closeSoon(socket: Duplex): void {
  const t = setTimeout(() => socket.destroy(), CLOSE_GRACE_MS);
  t.unref();
  socket.once('close', () => clearTimeout(t));
}

function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) { res.destroy(); return; }
  const text = JSON.stringify(body);
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store', ...headers });
  res.end(text);
}

/** Error answers close the connection (the caller destroys it after a grace: see closeSoon). */
const sendError = (res: http.ServerResponse, status: number, body: ErrorBody, headers: Record<string, string> = {}): void =>
  sendJson(res, status, body, { connection: 'close', ...headers });

/** A raw JSON error on a socket the HTTP parser will not answer on (bad request line, oversized headers, upgrades). */
function rawError(socket: Duplex, status: number, reason: string, error: string): void {
  const body = JSON.stringify({ error });
  if (socket.writable) {
    socket.end(`HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
      `x-content-type-options: nosniff\r\nconnection: close\r\n\r\n${body}`);
    closeSoon(socket);
  } else {
    socket.destroy();
  }
}

function cookieToken(req: http.IncomingMessage): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === COOKIE) {
      try { return decodeURIComponent(v.join('=')); } catch { return undefined; }
    }
  }
  return undefined;
}

function sameSecret(given: string, token: string): boolean {
  const a = Buffer.from(given), b = Buffer.from(token);
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

/** ok: no token needed or one matched; missing: none was sent (not a guess); wrong: a guess. */
function tokenCheck(req: http.IncomingMessage, url: URL, token: string | undefined): 'ok' | 'missing' | 'wrong' {
  if (!token) return 'ok';
  const auth = req.headers.authorization;
  const candidates = [auth?.startsWith('Bearer ') ? auth.slice(7) : undefined, url.searchParams.get('token') ?? undefined, cookieToken(req)]
    .filter((c) => c !== undefined);
  if (candidates.length === 0) return 'missing';
  return candidates.some((c) => sameSecret(c, token)) ? 'ok' : 'wrong';
}

/** For the cluster's proxy endpoints (cluster/http.ts): the same constant-time check, without this server's backoff. */
export function tokenOk(req: http.IncomingMessage, url: URL, token: string | undefined): boolean {
  return tokenCheck(req, url, token) === 'ok';
}

/** A viewer file, with the viewer's CSP; /?token=… becomes the HttpOnly cookie (also for the cluster's front). */
export function serveViewerAsset(req: http.IncomingMessage, res: http.ServerResponse, url: URL, asset: Asset, token: string | undefined): void {
  if (url.pathname === '/' && token && url.searchParams.has('token')) {
    // The token came in the address: keep it in an HttpOnly cookie and drop it from the address bar and history.
    url.searchParams.delete('token');
    res.writeHead(303, { ...SECURITY_HEADERS, location: `/${url.search}`, 'cache-control': 'no-store',
      'set-cookie': `${COOKIE}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Strict` });
    res.end();
    return;
  }
  const headers = { ...SECURITY_HEADERS, 'content-type': asset.type, etag: asset.etag, 'cache-control': 'no-cache',
    ...(asset.type.startsWith('text/html') ? { 'content-security-policy': VIEWER_CSP } : {}) };
  if (req.headers['if-none-match'] === asset.etag) { res.writeHead(304, headers); res.end(); return; }
  res.writeHead(200, { ...headers, 'content-length': asset.body.length });
  res.end(asset.body);
}

/** "127.0.0.1:8080" → "127.0.0.1", "[::1]:8080" → "::1". */
export function hostnameOf(hostHeader: string | undefined): string {
  if (!hostHeader) return '';
  const m = /^\[([^\]]+)\](?::\d+)?$/.exec(hostHeader) ?? /^([^:]+)(?::\d+)?$/.exec(hostHeader);
  return m?.[1] ?? hostHeader;
}

const LOGIN_PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>pie-stream: token required</title>
<meta name="viewport" content="width=device-width,initial-scale=1"></head>
<body style="font:16px system-ui,sans-serif;background:#111;color:#eee;display:grid;place-items:center;height:90vh">
<form method="get" action="/"><h1 style="font-size:20px">pie-stream needs its token</h1>
<p>This server listens beyond this machine, so every page needs the token from its config (server.token).</p>
<input name="token" type="password" autocomplete="current-password" autofocus required style="font-size:16px;padding:6px;width:20em">
<button style="font-size:16px;padding:6px 12px">Open</button></form></body></html>`;

type Route =
  | { kind: 'viewer'; asset: Asset }
  | { kind: 'health' } | { kind: 'metrics' } | { kind: 'cameras' } | { kind: 'stats' }
  | { kind: 'model'; camera: string }
  | { kind: 'snapshot'; camera: string }
  | { kind: 'faces'; camera: string; jpeg: boolean }
  | { kind: 'hls'; camera: string; variant: string; file: string }
  | { kind: 'none' };

/** Path segment → text; undefined when its percent-encoding is broken. */
function segment(s: string): string | undefined {
  try { return decodeURIComponent(s); } catch { return undefined; }
}

export class PieHttpServer {
  /** Detection events to viewers: publish here, /ws/…/events receives. */
  readonly events = new EventHub();
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 1024 });
  private readonly wsPerAddress = new Map<string, number>();
  private readonly connPerAddress = new Map<string, number>();
  /** Sockets answered with a refusal at accept: whatever they send next is ignored. */
  private readonly refused = new WeakSet<Socket>();
  /** Sockets that have not sent a complete request yet, with the timer that closes them. */
  private readonly awaitingFirst = new WeakMap<Socket, NodeJS.Timeout>();
  /** Wrong-token tries per address, and until when the next try waits (oldest address first). */
  private readonly authFailures = new Map<string, { count: number; until: number }>();
  private open = 0;
  /** Refused sockets still lingering for their peer to read the answer; beyond a bound they are cut at once. */
  private lingering = 0;
  private closed = false;

  private constructor(private readonly server: http.Server, readonly url: string, private readonly o: HttpServerOptions,
    private readonly limits: ServerLimits, private readonly assets: ReadonlyMap<string, Asset>) {}

  static async start(o: HttpServerOptions): Promise<PieHttpServer> {
    if (!isLoopback(o.host) && !o.token) {
      // The config refuses this too; the server checks again so no other caller can skip it.
      throw new PieError('config', `refusing to listen on ${o.host} without a token: other machines could watch every camera`,
        'set server.token (e.g. token: ${PIE_TOKEN}), or use host: 127.0.0.1 for this machine only');
    }
    const limits: ServerLimits = { ...DEFAULT_LIMITS, ...o.limits };
    const assets = loadViewerAssets();
    // requireHostHeader off: a request without Host gets our JSON 400 instead of Node's bare one.
    const server = http.createServer({ maxHeaderSize: limits.maxHeaderBytes, requireHostHeader: false, connectionsCheckingInterval: 1000 });
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
    const s = new PieHttpServer(server, `http://${host}:${addr.port}`, o, limits, assets);
    server.on('connection', (socket) => s.onConnection(socket));
    server.on('request', (req, res) => { s.onRequest(req, res).catch((e: unknown) => s.fail(res, e)); });
    server.on('upgrade', (req, socket, head) => s.onUpgrade(req, socket, head));
    server.on('connect', (req, socket) => {
      s.firstRequestSeen(req.socket);
      rawError(socket, 405, 'Method Not Allowed', 'CONNECT is not supported: this is not a proxy');
    });
    server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
      // Node's default answer is a bare status line; say what was wrong, in JSON like every other refusal.
      if (err.code === 'HPE_HEADER_OVERFLOW') rawError(socket, 431, 'Request Header Fields Too Large', `request headers over ${limits.maxHeaderBytes} bytes`);
      else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') rawError(socket, 408, 'Request Timeout', 'request took too long');
      else rawError(socket, 400, 'Bad Request', 'malformed HTTP request');
    });
    return s;
  }

  /** Open connections (refused ones lingering for their answer not counted). */
  get connections(): number { return this.open; }

  /**
   * Bounds at accept, before any request: the global cap (descriptors stay free for ffmpeg), the
   * per-address cap, and a deadline for the first request, so idle sockets cannot pile up.
   */
  private onConnection(socket: Socket): void {
    const who = socket.remoteAddress ?? '?';
    const n = this.connPerAddress.get(who) ?? 0;
    if (this.open >= this.limits.maxConnections) {
      this.refuse(socket, 503, 'Service Unavailable', `the server holds its maximum of ${this.limits.maxConnections} connections; try again later`);
      return;
    }
    if (n >= this.limits.maxConnectionsPerAddress) {
      this.refuse(socket, 429, 'Too Many Requests', `too many connections from ${who} (at most ${this.limits.maxConnectionsPerAddress}); close idle connections`);
      return;
    }
    this.open++;
    this.connPerAddress.set(who, n + 1);
    const timer = setTimeout(() => socket.destroy(), this.limits.firstRequestTimeoutMs);
    timer.unref();
    this.awaitingFirst.set(socket, timer);
    socket.once('close', () => {
      clearTimeout(timer);
      this.open--;
      const left = (this.connPerAddress.get(who) ?? 1) - 1;
      if (left <= 0) this.connPerAddress.delete(who); else this.connPerAddress.set(who, left);
    });
  }

  private refuse(socket: Socket, status: number, reason: string, error: string): void {
    this.refused.add(socket);
    // A flood of refusals must not hold descriptors either: past a bound, cut without an answer.
    if (this.lingering >= 64) { socket.destroy(); return; }
    this.lingering++;
    socket.once('close', () => { this.lingering--; });
    socket.on('error', () => {});
    rawError(socket, status, reason, error);
  }

  firstRequestSeen(socket: Socket | Duplex): void {
    const t = this.awaitingFirst.get(socket as Socket);
    if (t) { clearTimeout(t); this.awaitingFirst.delete(socket as Socket); }
  }

  /** ms this address must still wait before its token is checked again (0: check now). */
  private authWait(who: string): number {
    const f = this.authFailures.get(who);
    return f ? Math.max(0, f.until - Date.now()) : 0;
  }

  /** Counts a wrong token; past the free ones, each further try waits twice as long (constant-time compare kept). */
  private authFailed(who: string): void {
    const count = (this.authFailures.get(who)?.count ?? 0) + 1;
    const over = count - this.limits.authFailuresFree;
    const wait = over > 0 ? Math.min(AUTH_DELAY_MAX_MS, AUTH_DELAY_FIRST_MS * 2 ** (over - 1)) : 0;
    this.authFailures.delete(who); // re-inserted last: the map's order is oldest first
    this.authFailures.set(who, { count, until: Date.now() + wait });
    if (this.authFailures.size > AUTH_TRACKED_MAX) this.authFailures.delete(this.authFailures.keys().next().value!);
  }

  /** The token gate for requests and upgrades: the backoff first, then the comparison. */
  private authorize(req: http.IncomingMessage, url: URL): { ok: true } | { ok: false; status: 401 | 429; error: string; retryAfterS?: number } {
    if (!this.o.token) return { ok: true };
    const who = req.socket.remoteAddress ?? '?';
    const wait = this.authWait(who);
    if (wait > 0) {
      const s = Math.ceil(wait / 1000);
      return { ok: false, status: 429, error: `too many wrong tokens from ${who}: try again in ${s} s`, retryAfterS: s };
    }
    const r = tokenCheck(req, url, this.o.token);
    if (r === 'ok') { this.authFailures.delete(who); return { ok: true }; }
    if (r === 'wrong') this.authFailed(who);
    return { ok: false, status: 401, error: 'a token is required: send Authorization: Bearer <token>, or ?token=, or open /?token=<token> in a browser' };
  }

  private route(pathname: string): Route {
    const asset = this.assets.get(pathname);
    if (asset) return { kind: 'viewer', asset };
    switch (pathname) {
      case '/health': return { kind: 'health' };
      case '/metrics': return { kind: 'metrics' };
      case '/api/cameras': return { kind: 'cameras' };
      case '/api/stats': return { kind: 'stats' };
    }
    const api = /^\/api\/cameras\/([^/]+)\/(model|snapshot\.jpg|faces\/latest|faces\/latest\.jpg)$/.exec(pathname);
    if (api) {
      const camera = segment(api[1]!);
      if (camera === undefined) return { kind: 'none' };
      switch (api[2]) {
        case 'model': return { kind: 'model', camera };
        case 'snapshot.jpg': return { kind: 'snapshot', camera };
        default: return { kind: 'faces', camera, jpeg: api[2] === 'faces/latest.jpg' };
      }
    }
    const hls = /^\/hls\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(pathname);
    if (hls) return { kind: 'hls', camera: hls[1]!, variant: hls[2]!, file: hls[3]! };
    return { kind: 'none' };
  }

  /** Without a token the server is on loopback: a request naming another host is a rebinding attempt. */
  private hostAllowed(req: http.IncomingMessage): boolean {
    if (this.o.token) return true;
    return isLoopback(hostnameOf(req.headers.host));
  }

  private async onRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (this.refused.has(req.socket)) { drain(req); return; }
    this.firstRequestSeen(req.socket);
    // Every error answer closes the connection: a client in error gets no kept-alive socket to hold.
    res.once('finish', () => { if (res.statusCode >= 400) closeSoon(req.socket); });
    if (!req.headers.host && req.httpVersion !== '1.0') {
      sendError(res, 400, { error: 'the request has no Host header (HTTP/1.1 requires one)', fix: 'send Host: 127.0.0.1:<port>' });
      return;
    }
    const rawUrl = req.url ?? '/';
    if (Buffer.byteLength(rawUrl) > this.limits.maxUrlBytes) {
      sendError(res, 414, { error: `request URL over ${this.limits.maxUrlBytes} bytes` });
      return;
    }
    let url: URL;
    try {
      url = new URL(rawUrl, 'http://localhost');
    } catch {
      sendError(res, 400, { error: 'malformed request URL' });
      return;
    }
    const route = this.route(url.pathname);
    const method = req.method ?? 'GET';
    const allowed = route.kind === 'model' ? ['POST'] : ['GET', 'HEAD'];
    if (route.kind !== 'none' && !allowed.includes(method)) {
      sendError(res, 405, { error: `${method} is not allowed on ${url.pathname}; use ${allowed.join(' or ')}` }, { allow: allowed.join(', ') });
      return;
    }
    if (route.kind === 'health') { sendJson(res, 200, this.o.health()); return; }
    if (!this.hostAllowed(req)) {
      sendError(res, 403, { error: `requests must be addressed to this machine (Host: ${hostnameOf(req.headers.host) || 'none'})`, fix: 'open http://127.0.0.1:<port>/, or set server.token to serve other hosts' });
      return;
    }
    const auth = this.authorize(req, url);
    if (!auth.ok) {
      const wantsPage = auth.status === 401 && route.kind === 'viewer' && url.pathname === '/' && (req.headers.accept ?? '').includes('text/html');
      if (wantsPage) {
        res.writeHead(401, { ...SECURITY_HEADERS, 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store',
          'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'" });
        res.end(LOGIN_PAGE);
        return;
      }
      sendError(res, auth.status, { error: auth.error }, auth.retryAfterS ? { 'retry-after': String(auth.retryAfterS) } : {});
      return;
    }
    switch (route.kind) {
      case 'viewer': return this.serveAsset(req, res, url, route.asset);
      case 'cameras': return sendJson(res, 200, this.o.status());
      case 'stats': return sendJson(res, 200, this.o.stats());
      case 'metrics': {
        const m = await this.o.metrics();
        res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': m.contentType, 'content-length': Buffer.byteLength(m.body), 'cache-control': 'no-store' });
        res.end(m.body);
        return;
      }
      case 'model': return this.switchModel(req, res, route.camera);
      case 'snapshot': return this.snapshot(res, url, route.camera);
      case 'faces': return this.latestFaces(res, route.camera, route.jpeg);
      case 'hls': return this.serveHls(req, res, url, route);
      case 'none': sendError(res, 404, { error: `nothing at ${url.pathname}`, see: SEE });
    }
  }

  private serveAsset(req: http.IncomingMessage, res: http.ServerResponse, url: URL, asset: Asset): void {
    serveViewerAsset(req, res, url, asset, this.o.token);
  }

  private async switchModel(req: http.IncomingMessage, res: http.ServerResponse, camera: string): Promise<void> {
    if (!this.o.cameras().includes(camera)) { drain(req); sendError(res, 404, { error: `no camera ${JSON.stringify(camera)}` }); return; }
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/json') {
      drain(req);
      sendError(res, 415, { error: `the body must be JSON (content-type: application/json), got ${type || 'none'}`, fix: 'send {"path":"models/site.onnx"} with content-type: application/json' });
      return;
    }
    const body = await readBody(req, this.limits.maxBodyBytes);
    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch (e) {
      sendError(res, 400, { error: `malformed JSON: ${e instanceof Error ? e.message : String(e)}`, fix: 'send {"path":"models/site.onnx"}' });
      return;
    }
    const parsed = modelSwitchRequestSchema.safeParse(json);
    if (!parsed.success) {
      sendError(res, 400, { error: 'invalid request body', issues: issuesOf(parsed.error), fix: 'send {"path":"models/site.onnx"}' });
      return;
    }
    sendJson(res, 200, await this.o.switchModel(camera, parsed.data));
  }

  private async snapshot(res: http.ServerResponse, url: URL, camera: string): Promise<void> {
    if (!this.o.cameras().includes(camera)) { sendError(res, 404, { error: `no camera ${JSON.stringify(camera)}` }); return; }
    const variant = url.searchParams.get('variant') ?? 'enhanced';
    if (variant !== 'raw' && variant !== 'enhanced') { sendError(res, 400, { error: `variant must be raw or enhanced, got ${JSON.stringify(variant)}` }); return; }
    const jpeg = await this.o.snapshot(camera, variant);
    if (!jpeg) {
      sendError(res, 503, { error: `camera ${camera} has no ${variant} frame yet`, fix: 'wait until the camera is online (see /api/cameras)' }, { 'retry-after': '1' });
      return;
    }
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'image/jpeg', 'content-length': jpeg.length, 'cache-control': 'no-store' });
    res.end(jpeg);
  }

  private async latestFaces(res: http.ServerResponse, camera: string, jpeg: boolean): Promise<void> {
    if (!this.o.cameras().includes(camera)) { sendError(res, 404, { error: `no camera ${JSON.stringify(camera)}` }); return; }
    // Checked first even for the JPEG, so "detection is off" reads the same on both.
    const event = this.o.latestFaces(camera);
    const body = event && jpeg ? await this.o.latestFacesJpeg(camera) : event;
    if (!body) {
      // 404, not 503: unlike a camera's first frame, a face may never come.
      sendError(res, 404, { error: `no face detected on camera ${camera} yet`, fix: 'this answers once a face is in view (see ws /ws/<camera>/events for every detection)' });
      return;
    }
    if (!(body instanceof Uint8Array)) { sendJson(res, 200, body); return; }
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'image/jpeg', 'content-length': body.length, 'cache-control': 'no-store' });
    res.end(body);
  }

  private serveHls(req: http.IncomingMessage, res: http.ServerResponse, url: URL, r: { camera: string; variant: string; file: string }): void {
    if (!this.o.cameras().includes(r.camera) || !['raw', 'enhanced'].includes(r.variant) || !HLS_FILE.test(r.file)) {
      sendError(res, 404, { error: `no HLS file ${url.pathname}` });
      return;
    }
    const full = path.join(this.o.hlsRoot, r.camera, r.variant, r.file);
    fs.stat(full, (err, st) => {
      if (err || !st.isFile()) {
        sendError(res, 404, { error: `no HLS file ${url.pathname} (yet: the first segment takes a few seconds)` });
        return;
      }
      res.writeHead(200, { 'content-type': HLS_TYPES[path.extname(r.file).slice(1)]!, 'content-length': st.size, 'cache-control': r.file.endsWith('.m3u8') ? 'no-cache' : 'max-age=60' });
      if (req.method === 'HEAD') { res.end(); return; }
      // The muxer may delete an old segment between stat and read: end the response either way.
      fs.createReadStream(full).on('error', () => res.destroy()).pipe(res);
    });
  }

  /** Anything a handler threw: API errors keep their status, PieErrors map by kind, the rest is a 500 with credentials masked. */
  private fail(res: http.ServerResponse, e: unknown): void {
    if (e instanceof ApiError) { sendError(res, e.status, e.body()); return; }
    if (isPieError(e)) {
      sendError(res, statusOfPieError(e), { error: redact(e.message.split('\n  fix: ')[0]!), ...(e.fix ? { fix: e.fix } : {}) });
      return;
    }
    sendError(res, 500, { error: redact(`internal error: ${e instanceof Error ? e.message : String(e)}`) });
  }

  private onUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    const refuse = (status: number, reason: string, error: string): void => rawError(socket, status, reason, error);
    if (this.refused.has(req.socket)) { socket.destroy(); return; }
    this.firstRequestSeen(req.socket);
    if ((req.headers.upgrade ?? '').toLowerCase() !== 'websocket') { this.plainAnswer(req, socket); return; }
    if (!req.headers.host) { refuse(400, 'Bad Request', 'the request has no Host header'); return; }
    const rawUrl = req.url ?? '/';
    if (Buffer.byteLength(rawUrl) > this.limits.maxUrlBytes) { refuse(414, 'URI Too Long', 'request URL too long'); return; }
    let url: URL;
    try {
      url = new URL(rawUrl, 'http://localhost');
    } catch {
      refuse(400, 'Bad Request', 'malformed request URL');
      return;
    }
    // A page on another site must not open our streams with the viewer's cookie (cross-site WebSocket hijacking).
    const origin = req.headers.origin;
    if (origin !== undefined) {
      let originHost = '';
      try { originHost = new URL(origin).host; } catch { /* refused below */ }
      if (originHost !== req.headers.host) { refuse(403, 'Forbidden', `origin ${origin} is not this server`); return; }
    }
    if (!this.hostAllowed(req)) { refuse(403, 'Forbidden', 'requests must be addressed to this machine'); return; }
    const auth = this.authorize(req, url);
    if (!auth.ok) { refuse(auth.status, auth.status === 429 ? 'Too Many Requests' : 'Unauthorized', auth.error); return; }
    const m = /^\/ws\/(?:([^/]+)\/)?([^/]+)$/.exec(url.pathname);
    const camera = m?.[1] === undefined ? undefined : segment(m[1]);
    const what = m?.[2];
    const events = what === 'events' && (m?.[1] === undefined || (camera !== undefined && this.o.cameras().includes(camera)));
    const stream = !events && camera !== undefined && what !== undefined && this.o.hasStream(camera, what);
    if (!events && !stream) { refuse(404, 'Not Found', `no stream at ${url.pathname}`); return; }
    const who = req.socket.remoteAddress ?? '?';
    if ((this.wsPerAddress.get(who) ?? 0) >= this.limits.maxWsPerAddress) {
      refuse(429, 'Too Many Requests', `at most ${this.limits.maxWsPerAddress} WebSocket connections per address`);
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.wsPerAddress.set(who, (this.wsPerAddress.get(who) ?? 0) + 1);
      ws.once('close', () => {
        const left = (this.wsPerAddress.get(who) ?? 1) - 1;
        if (left <= 0) this.wsPerAddress.delete(who); else this.wsPerAddress.set(who, left);
      });
      if (events) this.events.attach(ws, camera ?? null);
      else if (!this.o.attach(camera!, what!, ws)) ws.close(1011, 'stream gone');
    });
  }

  /**
   * An Upgrade other than WebSocket (curl --http2 asks for h2c) is ignored, as RFC 9110 allows: the
   * request is answered over HTTP/1.1. Only bodiless methods: the parser has let go of the body.
   */
  private plainAnswer(req: http.IncomingMessage, socket: Duplex): void {
    const method = req.method ?? 'GET';
    if (method !== 'GET' && method !== 'HEAD') {
      rawError(socket, 400, 'Bad Request', `Upgrade: ${req.headers.upgrade} is not supported with ${method}; send the request without an Upgrade header`);
      return;
    }
    const res = new http.ServerResponse(req);
    res.assignSocket(socket as Socket);
    res.shouldKeepAlive = false;
    res.once('finish', () => { res.detachSocket(socket as Socket); socket.end(); closeSoon(socket); });
    this.onRequest(req, res).catch((e: unknown) => this.fail(res, e));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.events.close();
    for (const c of this.wss.clients) c.terminate();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Reads a request body up to `limit` bytes; over it, an ApiError 413 (the connection is then closed). */
function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? Number.NaN);
  if (declared > limit) return Promise.reject(new ApiError(413, `request body of ${declared} bytes is over ${limit}`));
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.pause();
        reject(new ApiError(413, `request body is over ${limit} bytes`));
        return;
      }
      parts.push(c);
    });
    req.once('end', () => resolve(Buffer.concat(parts)));
    req.once('error', reject);
  });
}

/** Discards a body we refuse before reading, so the connection can carry the response. */
function drain(req: http.IncomingMessage): void {
  req.resume();
}

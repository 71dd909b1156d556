// The cluster front's proxy boundary: a viewer may open any node, and the node relays HLS files and
// WebSocket streams from the app that runs the camera — its own loopback app, or the owner node's
// front at its advertised URL (one hop at most: a relayed request is marked, and a node that does
// not run the camera itself answers 503 instead of relaying again). A browser does not follow a
// redirect on a WebSocket, and an HLS redirect to another origin would need the token there too, so
// both are relayed, not redirected.
//
// Bounded: relayed WebSockets in all (the rest get 503), bytes queued towards each viewer (over the
// bound messages are skipped, as the owner's own stream does for a slow client; a viewer over it
// for long is cut), relayed HTTP requests in flight, and every upstream has a deadline.
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';

/** Marks a request relayed by another node; such a request is never relayed again. */
export const HOP_HEADER = 'x-pie-relayed';

export interface ProxyLimits {
  /** Relayed WebSockets at once on this node. */
  readonly maxWebSockets: number;
  /** Bytes queued towards one viewer beyond which messages are skipped. */
  readonly maxBufferedBytes: number;
  /** A viewer over the buffer bound this long is cut: it is not reading at all. */
  readonly cutAfterMs: number;
  /** Relayed HTTP requests (HLS playlists and segments) in flight. */
  readonly maxRequests: number;
  /** The upstream must answer (HTTP headers, WebSocket handshake) within this. */
  readonly upstreamTimeoutMs: number;
}

export const DEFAULT_PROXY_LIMITS: ProxyLimits = {
  maxWebSockets: 64,
  maxBufferedBytes: 1024 * 1024,
  cutAfterMs: 10_000,
  maxRequests: 64,
  upstreamTimeoutMs: 5000,
};

/** Cameras one site-wide events socket follows at most. */
const MAX_EVENT_SOURCES = 256;
/** How soon an events upstream that ended (a camera moved) is opened again. */
const EVENTS_RESYNC_MS = 2000;

export interface ProxyStats {
  readonly webSockets: number;
  readonly requests: number;
  /** Messages skipped for viewers over the buffer bound. */
  readonly skipped: number;
  /** Viewers cut for not reading. */
  readonly cut: number;
  /** Relays refused at a cap. */
  readonly refused: number;
}

/** Where a relayed request goes: an http(s) base URL, and whether it is another node (hop marked, token sent). */
export interface Upstream {
  readonly base: string;
  readonly remote: boolean;
}

export class ClusterProxy {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 1024 });
  private readonly sockets = new Set<WebSocket>();
  /** Since when each viewer has been over the buffer bound. */
  private readonly overSince = new WeakMap<WebSocket, number>();
  private webSockets = 0;
  private requests = 0;
  private skipped = 0;
  private cut = 0;
  private refused = 0;
  readonly limits: ProxyLimits;

  constructor(private readonly token: string | undefined, limits: Partial<ProxyLimits> = {}) {
    this.limits = { ...DEFAULT_PROXY_LIMITS, ...limits };
  }

  stats(): ProxyStats {
    return { webSockets: this.webSockets, requests: this.requests, skipped: this.skipped, cut: this.cut, refused: this.refused };
  }

  private upstreamHeaders(up: Upstream): Record<string, string> {
    // The local app is on loopback without a token; another node's front wants the shared token.
    return up.remote ? { [HOP_HEADER]: '1', ...(this.token ? { authorization: `Bearer ${this.token}` } : {}) } : {};
  }

  /** Relays a GET/HEAD (an HLS playlist or segment), streaming the body through. */
  relayHttp(req: http.IncomingMessage, res: http.ServerResponse, up: Upstream, pathAndQuery: string): void {
    if (this.requests >= this.limits.maxRequests) {
      this.refused++;
      json(res, 503, { error: `this node relays at most ${this.limits.maxRequests} requests at once; try again` }, { 'retry-after': '1' });
      return;
    }
    this.requests++;
    let done = false;
    const finish = (): void => { if (!done) { done = true; this.requests--; } };
    const target = new URL(pathAndQuery, up.base);
    const out = http.request(target, { method: req.method === 'HEAD' ? 'HEAD' : 'GET', headers: this.upstreamHeaders(up), timeout: this.limits.upstreamTimeoutMs }, (r) => {
      const keep = ['content-type', 'content-length', 'cache-control', 'retry-after'];
      res.writeHead(r.statusCode ?? 502, Object.fromEntries(keep.filter((k) => r.headers[k] !== undefined).map((k) => [k, String(r.headers[k])])));
      r.pipe(res);
      r.on('error', () => res.destroy());
      r.on('end', finish);
      r.on('close', finish);
    });
    out.on('timeout', () => out.destroy(new Error('upstream timeout')));
    out.on('error', (e) => {
      finish();
      if (!res.headersSent) json(res, 502, { error: `the node running this camera did not answer (${e.message})`, fix: 'try again: a camera moves to another node within a lease period' });
      else res.destroy();
    });
    res.on('close', () => { out.destroy(); finish(); });
    out.end();
  }

  /**
   * Relays a WebSocket: the upstream handshake first (so a missing stream is refused with its
   * status), then the viewer's upgrade, then messages one way, from the camera to the viewer. When
   * the upstream ends (its node stopped or died) the viewer gets 1012 (service restart) and
   * reconnects, through this node, to the camera's next owner.
   */
  relayWebSocket(req: http.IncomingMessage, socket: Duplex, head: Buffer, up: Upstream, pathAndQuery: string, refuse: (status: number, reason: string, error: string) => void): void {
    if (this.webSockets >= this.limits.maxWebSockets) {
      this.refused++;
      refuse(503, 'Service Unavailable', `this node relays at most ${this.limits.maxWebSockets} WebSocket streams; open the camera's owner node (see /api/cameras) or try later`);
      return;
    }
    this.webSockets++;
    let counted = true;
    const release = (): void => { if (counted) { counted = false; this.webSockets--; } };
    const target = wsTarget(up.base, pathAndQuery);
    const upstream = new WebSocket(target, { headers: this.upstreamHeaders(up), handshakeTimeout: this.limits.upstreamTimeoutMs, maxPayload: 4 * 1024 * 1024 });
    let viewer: WebSocket | undefined;
    const early: Array<{ m: RawData; binary: boolean }> = [];
    upstream.on('unexpected-response', (_r, res) => {
      release();
      const status = res.statusCode ?? 502;
      res.resume();
      refuse(status === 404 ? 404 : 502, status === 404 ? 'Not Found' : 'Bad Gateway', `the node running this camera answered ${status} for ${target.pathname}`);
    });
    upstream.on('error', (e) => {
      if (viewer) { viewer.close(1012, 'camera moving'); return; }
      release();
      refuse(502, 'Bad Gateway', `the node running this camera did not answer (${e.message}); try again`);
    });
    // The stream header can come with the handshake, before the viewer's upgrade is done: keep it.
    upstream.on('message', (m, binary) => { if (viewer) this.forward(viewer, m, binary); else if (early.length < 16) early.push({ m, binary }); });
    upstream.on('open', () => {
      if (socket.destroyed) { upstream.terminate(); release(); return; }
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        viewer = ws;
        this.sockets.add(ws);
        for (const e of early.splice(0)) this.forward(ws, e.m, e.binary);
        ws.on('error', () => ws.terminate());
        ws.once('close', () => { this.sockets.delete(ws); release(); upstream.terminate(); });
        // A stream that ends on the owner ends here too; the viewer reconnects and finds the new owner.
        upstream.once('close', () => { if (ws.readyState === WebSocket.OPEN) ws.close(1012, 'camera moving or stopped'); });
      });
    });
    socket.once('close', () => { if (!viewer) { upstream.terminate(); release(); } });
  }

  /**
   * The site-wide detection events (/ws/events): the viewer's socket fed by one upstream per camera
   * (its /ws/<camera>/events wherever it runs), each reopened within EVENTS_RESYNC_MS when it ends
   * (the camera moved or its node died). At most MAX_EVENT_SOURCES cameras per viewer.
   */
  relayEvents(req: http.IncomingMessage, socket: Duplex, head: Buffer, sources: () => ReadonlyArray<{ readonly camera: string; readonly up: Upstream }>, refuse: (status: number, reason: string, error: string) => void): void {
    if (this.webSockets >= this.limits.maxWebSockets) {
      this.refused++;
      refuse(503, 'Service Unavailable', `this node relays at most ${this.limits.maxWebSockets} WebSocket streams; try later`);
      return;
    }
    this.webSockets++;
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      this.sockets.add(ws);
      const ups = new Map<string, WebSocket>();
      const sync = (): void => {
        if (ws.readyState !== WebSocket.OPEN) return;
        for (const { camera, up } of sources().slice(0, MAX_EVENT_SOURCES)) {
          if (ups.has(camera)) continue;
          const u = new WebSocket(wsTarget(up.base, `/ws/${camera}/events`), { headers: this.upstreamHeaders(up), handshakeTimeout: this.limits.upstreamTimeoutMs, maxPayload: 256 * 1024 });
          ups.set(camera, u);
          u.on('message', (m, binary) => this.forward(ws, m, binary));
          u.on('error', () => u.terminate());
          u.on('close', () => { if (ups.get(camera) === u) ups.delete(camera); });
        }
      };
      sync();
      const timer = setInterval(sync, EVENTS_RESYNC_MS);
      ws.on('error', () => ws.terminate());
      ws.once('close', () => {
        clearInterval(timer);
        this.sockets.delete(ws);
        this.webSockets--;
        for (const u of ups.values()) u.terminate();
      });
    });
  }

  private forward(ws: WebSocket, m: RawData, binary: boolean): void {
    if (ws.readyState !== WebSocket.OPEN) return;
    if (ws.bufferedAmount > this.limits.maxBufferedBytes) {
      // Over the bound: skip, as the owner's own stream does (its decoder resyncs on the next picture).
      const since = this.overSince.get(ws) ?? Date.now();
      this.overSince.set(ws, since);
      this.skipped++;
      if (Date.now() - since > this.limits.cutAfterMs) { this.cut++; ws.terminate(); }
      return;
    }
    this.overSince.delete(ws);
    ws.send(m, { binary });
  }

  close(): void {
    for (const ws of this.sockets) ws.terminate();
    this.sockets.clear();
  }
}

/** The ws(s):// URL of a path on an http(s):// base. */
function wsTarget(base: string, pathAndQuery: string): URL {
  const u = new URL(pathAndQuery, base);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  return u;
}

function json(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
}

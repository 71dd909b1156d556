// The whole site as the viewer reads it, from any node: /api/cameras and /api/stats in the app's
// own forms, each camera as its owner's app reports it. This node's cameras come from its apps;
// each other node is asked once (GET /api/cluster/local on its advertised URL, relayed-request
// header and the shared token, a 2 s deadline), at most once a second (answers are cached), and a
// camera nobody reports now is listed from the catalogue as offline, saying why. Every entry
// also carries the cluster's own `name`, `owner` and `status`.
import http from 'node:http';
import { cameraDenoise, DEFAULT_DENOISE, DEFAULT_DENOISE_STRENGTH, type CameraConfig, type EnhanceConfig } from '../config/schema.js';
import type { CameraInfo, CameraStats } from '../output/api.js';
import type { ClusterNode } from './node.js';
import { HOP_HEADER } from './proxy.js';

/** What one node's apps report (GET /api/cluster/local). */
export interface LocalView {
  readonly cameras: readonly CameraInfo[];
  readonly stats: Readonly<Record<string, CameraStats>>;
  readonly enhancer: string;
}

const CACHE_MS = 1000;
const ASK_TIMEOUT_MS = 2000;
/** A node's answer larger than this is not a camera list. */
const MAX_ANSWER_BYTES = 4 * 1024 * 1024;

/** GET a JSON answer from another node's front; undefined on any failure (it is then left out). */
function ask(base: string, token: string | undefined): Promise<LocalView | undefined> {
  return new Promise((resolve) => {
    const req = http.get(new URL('/api/cluster/local', base), { headers: { [HOP_HEADER]: '1', ...(token ? { authorization: `Bearer ${token}` } : {}) }, timeout: ASK_TIMEOUT_MS }, (res) => {
      if (res.statusCode !== 200) { res.resume(); resolve(undefined); return; }
      const parts: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => { size += c.length; if (size > MAX_ANSWER_BYTES) req.destroy(); else parts.push(c); });
      res.on('end', () => {
        try { resolve(JSON.parse(Buffer.concat(parts).toString('utf8')) as LocalView); } catch { resolve(undefined); }
      });
      res.on('error', () => resolve(undefined));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
  });
}

/** The denoising a camera of the catalogue would run with: its own, else this node's enhance section (nodes may differ). */
export type DenoiseDefaults = Pick<EnhanceConfig, 'denoise' | 'denoiseStrength'>;

/** A camera of the catalogue that no node reports now: enough for the viewer to show it as down. */
function offline(c: CameraConfig, why: string, enhance: DenoiseDefaults): CameraInfo {
  return {
    camera: c.name, input: '', state: 'offline', fpsIn: 0, framesTotal: 0, restarts: 0,
    lastError: { kind: 'cluster', message: why, fix: 'wait: a camera moves to another node within a lease period (see /api/cluster)', atMs: Date.now() },
    lastFrameAtMs: null, nextRetryAtMs: null, framesProcessed: 0, latencyMs: 0, dropped: {},
    width: c.width, height: c.height, fps: c.fps, streams: { websocket: [...c.outputs.websocket], hls: [...c.outputs.hls] },
    provider: 'cpu', model: { path: '', name: '–', date: null, dateSource: null, trained: null }, mode: 'colour', exposure: null,
    denoise: cameraDenoise(enhance, c), noise: null,
    flow: { stalled: false, reason: null, message: null, sinceMs: null },
  };
}

export class SiteView {
  private cache: { at: number; views: Map<string, LocalView> } | undefined;
  private pending: Promise<Map<string, LocalView>> | undefined;

  constructor(private readonly o: { readonly node: ClusterNode; readonly local: () => LocalView; readonly token?: string; readonly enhance?: DenoiseDefaults }) {}

  /** Each other live node's report, cached for a second; one round of asking at a time. */
  private async remote(): Promise<Map<string, LocalView>> {
    if (this.cache && performance.now() - this.cache.at < CACHE_MS) return this.cache.views;
    this.pending ??= (async () => {
      const s = this.o.node.status();
      const others = s.nodes.filter((n) => n.node !== s.node && n.state !== 'gone' && n.url && n.owned.length > 0);
      const answers = await Promise.all(others.map(async (n) => [n.node, await ask(n.url!, this.o.token)] as const));
      const views = new Map(answers.filter((a): a is readonly [string, LocalView] => a[1] !== undefined));
      this.cache = { at: performance.now(), views };
      return views;
    })().finally(() => { this.pending = undefined; });
    return this.pending;
  }

  /** Every camera of the catalogue, as its owner's app reports it, with the cluster's name, owner and status. */
  async cameras(): Promise<{ node: string; enhancer: string; cameras: Array<CameraInfo & { name: string; owner: string | null; status: string; publishedModel?: string }> }> {
    const s = this.o.node.status();
    const local = this.o.local();
    const remote = await this.remote();
    const reported = new Map<string, CameraInfo>();
    for (const v of [local, ...remote.values()]) for (const c of v.cameras) reported.set(c.camera, c);
    const configs = new Map(this.o.node.catalogue().flatMap((c) => (c.config ? [[c.name, c.config] as const] : [])));
    const cameras = s.cameras.flatMap((c) => {
      const info = reported.get(c.name) ?? (configs.has(c.name) ? offline(configs.get(c.name)!, c.owner ? `${c.owner} runs it but did not answer` : 'no node runs it now', this.o.enhance ?? { denoise: DEFAULT_DENOISE, denoiseStrength: DEFAULT_DENOISE_STRENGTH }) : undefined);
      return info ? [{ ...info, name: c.name, owner: c.owner, status: c.status, ...(c.publishedModel ? { publishedModel: c.publishedModel } : {}) }] : [];
    });
    const live = s.nodes.filter((n) => n.state !== 'gone').length;
    return { node: s.node, enhancer: `cluster of ${live} node${live === 1 ? '' : 's'} (this one: ${s.node})${local.enhancer ? ` · ${local.enhancer}` : ''}`, cameras };
  }

  /** /api/stats's per-camera part for the whole site. */
  async stats(): Promise<{ cameras: Record<string, CameraStats> }> {
    const remote = await this.remote();
    return { cameras: Object.assign({}, ...[...remote.values()].map((v) => v.stats), this.o.local().stats) as Record<string, CameraStats> };
  }
}

// One view of the site: real `pie-stream run` nodes (app, ffmpeg encoders, front) on a real
// nats-server. Node a runs no camera (capacity 0); b and c run one each. A WebSocket client and an
// HLS client of node a get the streams of cameras owned by b and c, relayed; after kill -9 of a
// camera's owner, a client of node a gets that camera's frames again from its new owner.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { openBuckets, putCamera } from '../../src/cluster/buckets.js';
import { openBus, type Bus } from '../../src/cluster/connection.js';
import { freePort } from '../helpers/mosquitto.js';
import { NATS_SKIP, startNats, type NatsServer } from '../helpers/nats.js';
import { clusterConfig, killNode, spawnAppNode, until, type AppNodeProc } from './helpers.js';

const LEASE_MS = 3000;
const TS_SYNC = 0x47;

interface Camera { readonly name: string; readonly camera: string; readonly owner: string | null; readonly status: string; readonly state: string; readonly width: number; readonly height: number; readonly streams: { readonly websocket: string[] }; readonly denoise: { readonly mode: string; readonly strength: number | null } }
interface Grab { readonly header?: Buffer; readonly tsBytes: number; readonly closeCode?: number }

/**
 * Opens a WebSocket and reads the JSMpeg stream: the 8-byte "jsmp" header, then MPEG-TS. Resolves
 * once `bytes` of whole TS packets arrived, or with what came when the stream closed or timed out.
 */
function grab(url: string, bytes: number, timeoutMs = 15_000): Promise<Grab> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url);
    let header: Buffer | undefined, tsBytes = 0, done = false;
    const end = (closeCode?: number): void => {
      if (done) return;
      done = true;
      clearTimeout(t);
      ws.terminate();
      resolve({ ...(header ? { header } : {}), tsBytes, ...(closeCode !== undefined ? { closeCode } : {}) });
    };
    const t = setTimeout(() => end(), timeoutMs);
    ws.on('message', (m: Buffer) => {
      if (!header) { header = m; return; }
      if (m.length % 188 === 0 && m[0] === TS_SYNC) tsBytes += m.length;
      if (tsBytes >= bytes) end();
    });
    ws.on('close', (code) => end(code));
    ws.on('error', () => end());
  });
}

describe.skipIf(NATS_SKIP !== undefined)('cluster: one view of the site', () => {
  let dir: string, nats: NatsServer, bus: Bus;
  const nodes: AppNodeProc[] = [];
  const ports = new Map<string, number>();

  const cameras = async (node: string): Promise<Camera[]> => {
    const r = await fetch(`http://127.0.0.1:${ports.get(node)}/api/cameras`).catch(() => undefined);
    return r?.ok ? ((await r.json()) as { cameras: Camera[] }).cameras : [];
  };

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pie-view-'));
    nats = await startNats(dir);
    bus = await openBus(clusterConfig([nats.url], 'admin', 0), { timeoutMs: 2000 });
    const b = await openBuckets(bus);
    // Each with its own denoising, which must travel through the bucket to the node that runs it.
    const own = { cam0: { denoise: 'off' }, cam1: { denoiseStrength: 3 } } as const;
    for (const name of ['cam0', 'cam1'] as const) await putCamera(b, { name, input: 'synthetic', width: 64, height: 36, fps: 5, outputs: { hls: ['raw'], websocket: ['raw'] }, ...own[name] });
    for (const [name, capacity] of [['a', 0], ['b', 2], ['c', 2]] as const) {
      const port = await freePort();
      ports.set(name, port);
      const file = path.join(dir, `${name}.yaml`);
      fs.writeFileSync(file, `cluster:\n  servers: [${nats.url}]\n  node: ${name}\n  capacity: ${capacity}\n  leaseMs: ${LEASE_MS}\nserver: { host: 127.0.0.1, port: ${port} }\nworkers: { enhance: 1 }\n`);
      nodes.push(spawnAppNode(name, file));
    }
  }, 30_000);

  afterAll(async () => {
    await Promise.all(nodes.map((n) => killNode(n, 'SIGTERM')));
    await bus?.close();
    await nats?.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('relays the WebSocket and HLS streams of cameras owned by other nodes, and follows a camera to its new owner after kill -9', async () => {
    // Both cameras running, one on b and one on c (shares 1/1 by capacity), as node a sees them.
    const owners = await until('cam0 and cam1 running on b and c', async () => {
      const cs = await cameras('a');
      const o = Object.fromEntries(cs.map((c) => [c.name, c.owner]));
      return o['cam0'] && o['cam1'] && o['cam0'] !== o['cam1'] ? o as Record<string, string> : undefined;
    }, 60_000);
    expect(new Set(Object.values(owners))).toEqual(new Set(['b', 'c']));
    // Node a's /api/cameras and /api/stats speak for the whole site, each camera as its owner reports it.
    const site = await until('both cameras online through a', async () => { const cs = await cameras('a'); return cs.every((c) => c.state === 'online') && cs.length === 2 ? cs : undefined; }, 30_000);
    expect(site.map((c) => [c.camera, c.width, c.height, c.streams.websocket])).toEqual([['cam0', 64, 36, ['raw']], ['cam1', 64, 36, ['raw']]]);
    // As the owners run them: cam0 not denoised, cam1 with the node's default mode at its own strength.
    expect(site.map((c) => c.denoise)).toEqual([{ mode: 'off', strength: null }, { mode: 'temporal', strength: 3 }]);
    const stats = await (await fetch(`http://127.0.0.1:${ports.get('a')}/api/stats`)).json() as { cameras: Record<string, { camera_fps: number }> };
    expect(Object.keys(stats.cameras).sort()).toEqual(['cam0', 'cam1']);
    // The viewer page and a snapshot, relayed from the owner.
    expect(await (await fetch(`http://127.0.0.1:${ports.get('a')}/`)).text()).toMatch(/<html/i);
    const snap = await until('cam1 snapshot through a', async () => { const r = await fetch(`http://127.0.0.1:${ports.get('a')}/api/cameras/cam1/snapshot.jpg?variant=raw`); return r.ok ? r : undefined; }, 20_000);
    expect(snap.headers.get('content-type')).toBe('image/jpeg');

    // Through a, which runs nothing: the header says 64×36, then MPEG-TS.
    for (const cam of ['cam0', 'cam1']) {
      const g = await until(`frames of ${cam} through node a`, async () => { const x = await grab(`ws://127.0.0.1:${ports.get('a')}/ws/${cam}/raw`, 4 * 188); return x.tsBytes >= 4 * 188 ? x : undefined; }, 30_000);
      expect(g.header?.subarray(0, 4).toString()).toBe('jsmp');
      expect([g.header!.readUInt16BE(4), g.header!.readUInt16BE(6)]).toEqual([64, 36]);
    }
    // HLS through a: the playlist, then a segment it names.
    const hls = `http://127.0.0.1:${ports.get('a')}/hls/cam0/raw`;
    const playlist = await until('cam0 playlist through node a', async () => { const r = await fetch(`${hls}/index.m3u8`); return r.ok ? r.text() : undefined; }, 30_000);
    expect(playlist).toMatch(/^#EXTM3U/);
    const seg = /^[^#\s].*$/m.exec(playlist)![0];
    const r = await fetch(`${hls}/${seg}`);
    expect(r.status).toBe(200);
    expect((await r.arrayBuffer()).byteLength).toBeGreaterThan(188);
    // An unknown camera is refused, not relayed.
    expect((await grab(`ws://127.0.0.1:${ports.get('a')}/ws/nope/raw`, 1, 5000)).header).toBeUndefined();

    // kill -9 cam0's owner; a client of node a gets cam0's frames again from the other node.
    const victim = nodes.find((n) => n.name === owners['cam0'])!;
    const survivor = owners['cam0'] === 'b' ? 'c' : 'b';
    const open = grab(`ws://127.0.0.1:${ports.get('a')}/ws/cam0/raw`, Number.MAX_SAFE_INTEGER, 30_000);
    await new Promise((res) => setTimeout(res, 1000));
    await killNode(victim);
    const killedAt = Date.now();
    // The relayed stream ends with "service restart" (1012): the viewer reconnects.
    expect((await open).closeCode).toBe(1012);
    const again = await until('cam0 frames through node a after the kill', async () => {
      const x = await grab(`ws://127.0.0.1:${ports.get('a')}/ws/cam0/raw`, 4 * 188, 5000);
      return x.tsBytes >= 4 * 188 ? x : undefined;
    }, 30_000);
    expect(again.header?.subarray(0, 4).toString()).toBe('jsmp');
    console.log(`view: kill -9 of ${victim.name} → cam0's frames through node a again after ${Date.now() - killedAt} ms (lease ${LEASE_MS} ms)`);
    expect((await cameras('a')).find((c) => c.name === 'cam0')?.owner).toBe(survivor);
    const cluster = await (await fetch(`http://127.0.0.1:${ports.get('a')}/api/cluster`)).json() as { proxy: { refused: number } };
    expect(cluster.proxy.refused).toBe(0);
  }, 180_000);
});

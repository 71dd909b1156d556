// The viewer of node a plays a camera owned by node b: Debian's chromium against real
// `pie-stream run` nodes on a real nats-server. Node a runs no camera (capacity 0); its page lists
// the site's camera and its JSMpeg player decodes the stream node a relays from node b.
// Screenshot: test-artifacts/cluster-viewer.png.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBuckets, putCamera } from '../../src/cluster/buckets.js';
import { openBus, type Bus } from '../../src/cluster/connection.js';
import { clusterConfig, killNode, spawnAppNode, until, type AppNodeProc } from '../cluster/helpers.js';
import { freePort } from '../helpers/mosquitto.js';
import { REPO_ROOT } from '../helpers/shared.js';
import { NATS_SKIP, startNats, type NatsServer } from '../helpers/nats.js';

const CHROMIUM = [process.env.PIE_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p): p is string => !!p && fs.existsSync(p));
if (!CHROMIUM) console.warn('skipped: no chromium (apt-get install -y chromium, or set PIE_CHROMIUM to its path)');
const W = 160, H = 96;
const TOKEN = 'cluster-viewer-token';
const ARTIFACTS = path.join(REPO_ROOT, 'test-artifacts');

describe.skipIf(!CHROMIUM || NATS_SKIP !== undefined)('the viewer of one node plays a camera of another', () => {
  let dir: string, nats: NatsServer, bus: Bus, browser: Browser;
  const nodes: AppNodeProc[] = [];
  const ports = new Map<string, number>();

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pie-cluster-viewer-'));
    nats = await startNats(dir);
    bus = await openBus(clusterConfig([nats.url], 'admin', 0), { timeoutMs: 2000 });
    await putCamera(await openBuckets(bus), { name: 'night', input: 'synthetic', width: W, height: H, fps: 10, outputs: { hls: [], websocket: ['raw'] } });
    for (const [name, capacity] of [['a', 0], ['b', 1]] as const) {
      const port = await freePort();
      ports.set(name, port);
      const file = path.join(dir, `${name}.yaml`);
      fs.writeFileSync(file, `cluster: { servers: [${nats.url}], node: ${name}, capacity: ${capacity}, leaseMs: 3000 }\nserver: { host: 127.0.0.1, port: ${port}, token: ${TOKEN} }\nworkers: { enhance: 1 }\n`);
      nodes.push(spawnAppNode(name, file));
    }
    browser = await chromium.launch({ executablePath: CHROMIUM!, args: process.getuid?.() === 0 ? ['--no-sandbox'] : [] });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await Promise.all(nodes.map((n) => killNode(n, 'SIGTERM')));
    await bus?.close();
    await nats?.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('shows node b\'s camera, moving, in node a\'s page', async () => {
    const a = `http://127.0.0.1:${ports.get('a')}`;
    await until('night owned by b', async () => {
      const r = await fetch(`${a}/api/cameras`, { headers: { authorization: `Bearer ${TOKEN}` } }).catch(() => undefined);
      const cams = r?.ok ? ((await r.json()) as { cameras: Array<{ name: string; owner: string | null; state: string }> }).cameras : [];
      return cams.some((c) => c.name === 'night' && c.owner === 'b' && c.state === 'online');
    }, 60_000);

    const page = await browser.newPage({ viewport: { width: 1024, height: 640 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${a}/?token=${TOKEN}`);
    expect(new URL(page.url()).search).toBe('');
    await page.locator('.tile[data-camera="night"]').waitFor();
    const sample = (): Promise<{ width: number; grid: number[] } | null> => page.evaluate(() => {
      const c = document.querySelector<HTMLCanvasElement>('.tile[data-camera="night"] .layer.raw canvas');
      const g = c?.getContext('2d');
      if (!c || !g || c.width === 0) return null;
      const d = g.getImageData(0, 0, c.width, c.height).data;
      const grid = new Array<number>(64).fill(0);
      for (let y = 0; y < c.height; y++) for (let x = 0; x < c.width; x++) {
        const i = (y * c.width + x) * 4;
        grid[Math.floor((y * 8) / c.height) * 8 + Math.floor((x * 8) / c.width)]! += (d[i]! + d[i + 1]! + d[i + 2]!) / 765;
      }
      return { width: c.width, grid: grid.map((s) => s / ((c.width * c.height) / 64)) };
    });
    // Decoded at the camera's size (before its first picture a player has a 300×150 canvas)…
    const first = await until('a decoded picture', async () => { const s = await sample(); return s && s.width === W ? s : undefined; }, 30_000);
    // …and moving: the synthetic scene changes from frame to frame.
    await until('the picture to change', async () => {
      const s = await sample();
      return s !== null && first.grid.reduce((n, v, i) => n + Math.abs(v - s.grid[i]!), 0) / 64 > 0.002;
    }, 10_000);
    expect(await page.locator('.tile[data-camera="night"] .state').textContent()).toBe('online');
    expect(errors).toEqual([]);
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'cluster-viewer.png') });
  }, 120_000);
});

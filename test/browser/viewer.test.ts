// The viewer in a real browser: Debian's chromium driven by playwright-core against a running
// pipeline (a synthetic ffmpeg camera, ONNX Runtime, the real JSMpeg and HLS encoders, and an RTSP
// camera that cannot be reached). Checks what a person sees: a moving picture, the original darker
// than the enhanced one, a face box from a detection event, a camera-down state, HLS playback.
// Screenshot: test-artifacts/viewer.png (PIE_UPDATE_DOCS=1 also refreshes docs/viewer.png).
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PieApp } from '../../src/app.js';
import { encoderSinks } from '../../src/cli/run.js';
import { parseConfig } from '../../src/config/load.js';
import { readImage } from '../../src/image/io.js';
import { REPO_ROOT } from '../helpers/shared.js';
import { meanOf } from '../output/helpers.js';

const CHROMIUM = [process.env.PIE_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p): p is string => !!p && fs.existsSync(p));
if (!CHROMIUM) console.warn('skipped: no chromium (apt-get install -y chromium, or set PIE_CHROMIUM to its path)');

const W = 320, H = 180;
const TOKEN = 'browser-test-token';
const ARTIFACTS = path.join(REPO_ROOT, 'test-artifacts');
/** A face box in camera pixels (the viewer scales it to the picture). */
const FACE = { box: { x: 96, y: 40, width: 64, height: 80 }, score: 0.91, keypoints: [{ x: 114, y: 70 }, { x: 142, y: 70 }, { x: 128, y: 86 }] };

let app: PieApp;
let browser: Browser;
const pageErrors: string[] = [];

const until = async (what: string, cond: () => Promise<boolean>, ms: number): Promise<void> => {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

interface Sample { readonly width: number; readonly height: number; readonly mean: number; readonly grid: readonly number[] }

/** Reads a layer's canvas as drawn: its size, mean brightness (0–1) and a 16×16 grid of mean brightness. */
function sample(page: Page, variant: 'raw' | 'enhanced'): Promise<Sample | null> {
  return page.evaluate((v) => {
    const c = document.querySelector<HTMLCanvasElement>(`.tile[data-camera="night"] .layer.${v} canvas`);
    const g = c?.getContext('2d');
    if (!c || !g || c.width === 0 || c.height === 0) return null;
    const d = g.getImageData(0, 0, c.width, c.height).data;
    const grid = new Array<number>(256).fill(0);
    let sum = 0;
    for (let y = 0; y < c.height; y++) {
      for (let x = 0; x < c.width; x++) {
        const i = (y * c.width + x) * 4;
        const l = (d[i]! + d[i + 1]! + d[i + 2]!) / 3 / 255;
        sum += l;
        grid[Math.floor((y * 16) / c.height) * 16 + Math.floor((x * 16) / c.width)]! += l;
      }
    }
    const cell = (c.width * c.height) / 256;
    return { width: c.width, height: c.height, mean: sum / (c.width * c.height), grid: grid.map((s) => s / cell) };
  }, variant);
}

/** Mean brightness (0–1) of what the page shows in the night tile's picture area. */
async function visibleMean(page: Page, name: string): Promise<number> {
  const file = path.join(ARTIFACTS, name);
  await page.locator('.tile[data-camera="night"] .view').screenshot({ path: file });
  return meanOf((await readImage(file)).data);
}

/** Pixels of the detection-box colour on the overlay canvas, and whether the box's left edge is where the event put it. */
function boxPixels(page: Page): Promise<{ green: number; leftEdge: boolean }> {
  return page.evaluate(({ box, w, h }) => {
    const c = document.querySelector<HTMLCanvasElement>('.tile[data-camera="night"] canvas.boxes')!;
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    const isGreen = (i: number): boolean => d[i + 3]! > 128 && d[i + 1]! > 200 && d[i]! < 120 && d[i + 2]! < 180;
    let green = 0;
    for (let i = 0; i < d.length; i += 4) if (isGreen(i)) green++;
    // The middle of the box's left edge, in canvas pixels, give or take the line width.
    const x = Math.round((box.x * c.width) / w), y = Math.round(((box.y + box.height / 2) * c.height) / h);
    let leftEdge = false;
    for (let dx = -3; dx <= 3; dx++) if (isGreen((y * c.width + x + dx) * 4)) leftEdge = true;
    return { green, leftEdge };
  }, { box: FACE.box, w: W, h: H });
}

beforeAll(async () => {
  if (!CHROMIUM) return;
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const config = parseConfig(`
cameras:
  - name: night
    input: "synthetic:exposure=0.08,noise=4"
    width: ${W}
    height: ${H}
    fps: 10
    outputs: { hls: [enhanced], websocket: [raw, enhanced] }
  - name: door
    input: rtsp://viewer:\${CAM_PASS}@127.0.0.1:9/stream
    width: ${W}
    height: ${H}
    outputs: { hls: [], websocket: [enhanced] }
enhance: { scale: 1/4, batch: { maxSize: 2, maxWaitMs: 20 } }
server: { host: 127.0.0.1, port: 0, token: ${TOKEN} }
`, { env: { CAM_PASS: 's3cret-door-pass' } });
  app = await PieApp.start(config, { sinks: encoderSinks });
  // Chromium refuses to run as root without --no-sandbox (CI runs as root).
  browser = await chromium.launch({ executablePath: CHROMIUM, args: process.getuid?.() === 0 ? ['--no-sandbox'] : [] });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await app?.close();
});

describe.skipIf(!CHROMIUM)('the viewer in chromium', () => {
  it('shows live enhanced video, the original on request, face boxes and a down camera', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    page.on('pageerror', (e) => pageErrors.push(e.message));

    // Opening /?token= logs in with a cookie and drops the token from the address.
    await page.goto(`${app.url}/?token=${TOKEN}`);
    expect(new URL(page.url()).search).toBe('');
    await page.locator('.tile[data-camera="night"]').waitFor();

    // The enhanced picture is decoded at the camera's size and moves from frame to frame.
    // (Before its first picture a player draws a loading bar on a default 300×150 canvas, which the viewer hides.)
    await until('an enhanced picture', async () => {
      const s = await sample(page, 'enhanced');
      return s !== null && s.width === W && s.mean > 0.05;
    }, 30_000);
    expect(await page.locator('.tile[data-camera="night"] .layer.enhanced').getAttribute('class')).toBe('layer enhanced playing');
    const a = (await sample(page, 'enhanced'))!;
    expect([a.width, a.height]).toEqual([W, H]);
    let changed = 0;
    await until('the picture to change', async () => {
      const b = (await sample(page, 'enhanced'))!;
      changed = a.grid.reduce((n, v, i) => n + Math.abs(v - b.grid[i]!), 0) / a.grid.length;
      return changed > 0.01;
    }, 5000);
    expect(changed).toBeGreaterThan(0.01);

    // The tile shows the camera's figures.
    await until('figures', async () => Number(await page.locator('.tile[data-camera="night"] .fps-out').textContent()) > 3, 10_000);
    expect(await page.locator('.tile[data-camera="night"] .state').textContent()).toBe('online');
    // The shipped model carries no date of its own: its file's date (a checkout's) is not shown as one.
    expect(await page.locator('.tile[data-camera="night"] .model').textContent()).toBe('pie-base.onnx · undated');
    expect(await page.locator('.tile[data-camera="night"] .model').getAttribute('title')).toMatch(/file modified \d{4}-\d{2}-\d{2}/);
    // Drops say why: the biggest reason in words beside the count.
    expect(await page.locator('.tile[data-camera="night"] .drops').textContent()).toMatch(/^\d+ \([\d.–]+\/s\)( · (over the camera fps|replaced by a newer frame|enhancer busy|inference failed|finished after a newer frame|encoder behind|a viewer too slow).*)?$/);
    expect(await page.locator('.tile[data-camera="night"] .provider').textContent()).toBe('cpu');
    expect(await page.locator('.tile[data-camera="night"] .mode').textContent()).toMatch(/^colour · exposure 0\.\d\d$/);
    // No denoise key in this config: the live default, temporal at strength 2, with its noise model in the tooltip.
    expect(await page.locator('.tile[data-camera="night"] .denoise').textContent()).toBe('temporal · strength 2');
    expect(await page.locator('.tile[data-camera="night"] .denoise').getAttribute('title')).toMatch(/frames since a reset/);
    expect(await page.locator('.tile[data-camera="night"] .transport').textContent()).toBe('enhanced: WebSocket (JSMpeg)');

    // Original: the raw stream replaces the enhanced one on screen, and it is much darker.
    const enhancedOnScreen = await visibleMean(page, 'view-enhanced.png');
    await page.click('.tile[data-camera="night"] button[data-mode="original"]');
    await until('a raw picture', async () => (await sample(page, 'raw'))?.width === W
      && (await page.locator('.tile[data-camera="night"] .layer.raw').getAttribute('class')) === 'layer raw playing', 30_000);
    await page.waitForTimeout(500);
    expect(await page.locator('.tile[data-camera="night"] .layer.raw').evaluate((e) => getComputedStyle(e).visibility)).toBe('visible');
    expect(await page.locator('.tile[data-camera="night"] .layer.enhanced').evaluate((e) => getComputedStyle(e).visibility)).toBe('hidden');
    const originalOnScreen = await visibleMean(page, 'view-original.png');
    expect(enhancedOnScreen).toBeGreaterThan(2 * originalOnScreen);
    expect((await sample(page, 'enhanced'))!.mean).toBeGreaterThan(2 * (await sample(page, 'raw'))!.mean);
    await page.click('.tile[data-camera="night"] button[data-mode="enhanced"]');
    await page.waitForTimeout(300);
    expect(await visibleMean(page, 'view-enhanced-again.png')).toBeGreaterThan(2 * originalOnScreen);

    // A detection event draws its box where the event says; it goes once the event is old.
    expect((await boxPixels(page)).green).toBe(0);
    app.publishEvent('night', { seq: 1, ts: Date.now(), faces: [FACE] });
    await until('a box', async () => (await boxPixels(page)).green > 100, 3000);
    expect((await boxPixels(page)).leftEdge).toBe(true);
    await until('the box to expire', async () => (await boxPixels(page)).green === 0, 5000);

    // The unreachable camera is shown as down, with its error and no password.
    const door = page.locator('.tile[data-camera="door"]');
    await until('the door camera down', async () => (await door.locator('.down-overlay').isVisible())
      && (await door.locator('.down-title').textContent()) === 'Camera down', 20_000);
    expect(await door.isVisible()).toBe(true);
    expect(await door.locator('.state').textContent()).toMatch(/^(offline|restarting)$/);
    expect(await door.locator('.down-detail').textContent()).toMatch(/door/);
    expect(await page.content()).not.toContain('s3cret-door-pass');

    // Split: original on the left, enhanced on the right, with a box; this is the README's picture.
    await page.click('.tile[data-camera="night"] button[data-mode="split"]');
    await page.waitForTimeout(1000);
    app.publishEvent('night', { seq: 2, ts: Date.now(), faces: [FACE] });
    await until('a box', async () => (await boxPixels(page)).green > 100, 3000);
    const shot = path.join(ARTIFACTS, 'viewer.png');
    await page.screenshot({ path: shot });
    if (process.env.PIE_UPDATE_DOCS === '1') fs.copyFileSync(shot, path.join(REPO_ROOT, 'docs', 'viewer.png'));
    expect(fs.statSync(shot).size).toBeGreaterThan(10_000);
    await page.close();
    expect(pageErrors).toEqual([]);
  }, 120_000);

  it('plays the HLS stream through hls.js where WebSocket is not used', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`${app.url}/?token=${TOKEN}&transport=hls`);
    const video = page.locator('.tile[data-camera="night"] .layer.enhanced video');
    await video.waitFor({ state: 'attached', timeout: 10_000 });
    await until('HLS playback', async () => (await video.evaluate((v: HTMLVideoElement) => v.currentTime)) > 1, 40_000);
    const t0 = await video.evaluate((v: HTMLVideoElement) => v.currentTime);
    await page.waitForTimeout(1500);
    expect(await video.evaluate((v: HTMLVideoElement) => v.currentTime)).toBeGreaterThan(t0);
    expect(await video.evaluate((v: HTMLVideoElement) => [v.videoWidth, v.videoHeight])).toEqual([W, H]);
    expect(await page.locator('.tile[data-camera="night"] .transport').textContent()).toBe('enhanced: HLS (forced)');
    // Enhanced over HLS too: much brighter than the camera's raw picture (its snapshot, from the API).
    const raw = await fetch(`${app.url}/api/cameras/night/snapshot.jpg?variant=raw`, { headers: { authorization: `Bearer ${TOKEN}` } });
    const rawFile = path.join(ARTIFACTS, 'raw-snapshot.jpg');
    fs.writeFileSync(rawFile, new Uint8Array(await raw.arrayBuffer()));
    expect(await visibleMean(page, 'view-hls.png')).toBeGreaterThan(2 * meanOf((await readImage(rawFile)).data));
    await page.close();
    expect(pageErrors).toEqual([]);
  }, 60_000);
});

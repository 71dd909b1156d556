// The viewer's files: a fixed table from URL to file, read once when the server starts. Requests
// only ever pick an entry of this table, so no client-written path reaches the file system. The
// players come from npm (node_modules), so nothing is fetched from the internet at build or run time.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PieError } from '../errors.js';

/** web/ beside src/ and dist/ (both are one level below the package root). */
export const WEB_ROOT = fileURLToPath(new URL('../../web/', import.meta.url));

export interface Asset {
  readonly body: Buffer;
  readonly type: string;
  readonly etag: string;
}

const require = createRequire(import.meta.url);
/** A file beside a package's main entry (their `exports` hide dist/ from require.resolve). */
const besideMain = (pkg: string, file: string): string => path.join(path.dirname(require.resolve(pkg)), file);

const JS = 'text/javascript; charset=utf-8';
const SOURCES: ReadonlyArray<readonly [url: string, file: () => string, type: string]> = [
  ['/', () => path.join(WEB_ROOT, 'index.html'), 'text/html; charset=utf-8'],
  ['/static/viewer.js', () => path.join(WEB_ROOT, 'viewer.js'), JS],
  ['/static/viewer.css', () => path.join(WEB_ROOT, 'viewer.css'), 'text/css; charset=utf-8'],
  // JSMpeg (phoboslab's player with its WebAssembly decoder inlined), as @cycjimmy/jsmpeg-player publishes it.
  ['/static/jsmpeg.min.js', () => besideMain('@cycjimmy/jsmpeg-player', 'jsmpeg-player.umd.min.js'), JS],
  // hls.js's light build: no subtitles, alternate audio or DRM, none of which pie-stream serves.
  ['/static/hls.light.min.js', () => besideMain('hls.js', 'hls.light.min.js'), JS],
];

export function loadViewerAssets(): ReadonlyMap<string, Asset> {
  const out = new Map<string, Asset>();
  for (const [url, file, type] of SOURCES) {
    let body: Buffer;
    let where = '?';
    try {
      where = file();
      body = fs.readFileSync(where);
    } catch (e) {
      throw new PieError('output', `the viewer file for ${url} is missing (${where}): ${e instanceof Error ? e.message : String(e)}`, 'run npm ci in the pie-stream folder');
    }
    out.set(url, { body, type, etag: `"${crypto.createHash('sha1').update(body).digest('base64url')}"` });
  }
  return out;
}

// `pie-stream run`'s flags a new user reaches for: --port and --host without copying the config,
// and --version.
import { afterAll, describe, expect, it } from 'vitest';
import { runLive, type Running } from '../../src/cli/run.js';
import { cli } from '../helpers/cli.js';
import { freePort } from '../helpers/rtsp-server.js';

let app: Running | undefined;
afterAll(async () => { await app?.close(); });

describe('pie-stream run flags', () => {
  it('listens on --port instead of the config\'s port', async () => {
    const port = await freePort();
    app = await runLive(undefined, () => {}, { port });
    const url = 'url' in app ? app.url : undefined;
    expect(url).toBe(`http://127.0.0.1:${port}`);
    expect((await fetch(`${url}/health`)).status).toBe(200);
  }, 30_000);

  it('refuses --host beyond this machine without a token, and a bad --port, as usage errors', async () => {
    const host = await cli('run', '--host', '0.0.0.0');
    expect(host.code).toBe(2);
    expect(host.err).toMatch(/--host 0\.0\.0\.0 is beyond this machine and the config has no server\.token/);
    const port = await cli('run', '--port', '70000');
    expect(port.code).toBe(2);
    expect(port.err).toMatch(/--port 70000 must be an integer from 0 to 65535/);
  });

  it('prints its version', async () => {
    const write = process.stdout.write.bind(process.stdout);
    let out = '';
    process.stdout.write = ((s: string | Uint8Array) => { out += String(s); return true; }) as typeof process.stdout.write;
    try {
      expect((await cli('--version')).code).toBe(0);
    } finally {
      process.stdout.write = write;
    }
    expect(out.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});

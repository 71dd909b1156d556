// `pie-stream run [--config file]` (what `npm start` runs): the live pipeline with its real
// outputs, on the embedded default config unless one is given. Prints the URLs to open and stops
// cleanly on Ctrl-C.
import { config as rxConfig } from 'rxjs';
import { PieApp, type SinkFactory } from '../app.js';
import { isLoopback } from '../config/schema.js';
import { PieError } from '../errors.js';
import { redact } from '../ingest/redact.js';
import { loadConfig, loadDefaultConfig, DEFAULT_CONFIG_PATH } from '../config/load.js';
import { HlsWriter } from '../output/hls.js';
import { JsmpegStream } from '../output/jsmpeg.js';
import { runClusterNode } from '../cluster/run.js';

/** The encoders: ffmpeg HLS writers and JSMpeg WebSocket streams. */
export const encoderSinks: SinkFactory = {
  hls: (c, variant, dir, drops) => HlsWriter.start({ camera: c.name, variant, width: c.width, height: c.height, fps: c.fps, dir, drops }),
  live: (c, variant, drops) => JsmpegStream.start({ camera: c.name, variant, width: c.width, height: c.height, fps: c.fps, drops }),
};

/** Flags that override the config's server address (so changing the port needs no config copy). */
export interface ServerOverrides { readonly port?: number; readonly host?: string }

/** A running pipeline: one app, or a cluster node running its share of the cluster's cameras. */
export type Running = PieApp | { close(): Promise<void> };

export async function runLive(configPath: string | undefined, log: (s: string) => void, over: ServerOverrides = {}): Promise<Running> {
  // RxJS rethrows a subscriber's error asynchronously by default, which would crash the process
  // and every camera with it: log it instead.
  rxConfig.onUnhandledError = (e: unknown) => log(redact(`pipeline error (ignored): ${e instanceof Error ? e.message : String(e)}`));
  const loaded = configPath ? loadConfig(configPath) : loadDefaultConfig();
  const config = { ...loaded, server: { ...loaded.server, ...over } };
  // The config's rule, for the flag too (the server checks again): no camera beyond this machine without a token.
  if (over.host !== undefined && !isLoopback(over.host) && !config.server.token) {
    throw new PieError('usage', `--host ${over.host} is beyond this machine and the config has no server.token: other machines could watch every camera`,
      'set server.token in a config (e.g. token: ${PIE_TOKEN}), or leave --host out for 127.0.0.1');
  }
  log(`config: ${configPath ?? `${DEFAULT_CONFIG_PATH} (the embedded default: a synthetic night camera)`}`);
  // With cluster:, the cameras come from the cluster and this node runs its share of them.
  if (config.cluster) return runClusterNode(config, encoderSinks, log);
  const app = await PieApp.start(config, { sinks: encoderSinks, log });
  log(`pie-stream is running at ${app.url}  (viewer: ${app.url}/${config.server.token ? '?token=<server.token>' : ''}, health: ${app.url}/health, stats: ${app.url}/api/stats, metrics: ${app.url}/metrics)`);
  for (const u of app.urls()) log(`  ${u.camera}: ${u.kind.padEnd(28)} ${u.url}`);
  log('HLS plays in Safari, VLC or ffplay; the WebSocket speaks JSMpeg (node-rtsp-stream\'s protocol). Ctrl-C stops.');
  return app;
}

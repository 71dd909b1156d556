// Finding ffmpeg and ffprobe: the configured path, then PATH, then the optional npm packages
// that ship static builds (@ffmpeg-installer/ffmpeg, @ffprobe-installer/ffprobe).
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { PieError } from '../errors.js';

export type Tool = 'ffmpeg' | 'ffprobe';
export interface ResolvedTool {
  readonly tool: Tool;
  readonly path: string;
  readonly source: 'configured' | 'PATH' | 'npm';
}

const NPM_PACKAGE: Record<Tool, string> = { ffmpeg: '@ffmpeg-installer/ffmpeg', ffprobe: '@ffprobe-installer/ffprobe' };
const ENV_VAR: Record<Tool, string> = { ffmpeg: 'PIE_FFMPEG', ffprobe: 'PIE_FFPROBE' };

const isExecutable = (p: string): boolean => {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
};

function onPath(tool: Tool, envPath: string | undefined): string | undefined {
  for (const dir of (envPath ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const p = path.join(dir, tool);
    if (isExecutable(p)) return p;
  }
  return undefined;
}

function fromNpm(tool: Tool): string | undefined {
  try {
    const mod = createRequire(import.meta.url)(NPM_PACKAGE[tool]) as { path?: unknown };
    return typeof mod.path === 'string' && isExecutable(mod.path) ? mod.path : undefined;
  } catch {
    return undefined; // optional dependency not installed on this platform
  }
}

export interface ResolveOptions {
  /** Explicit path (config or --ffmpeg); else $PIE_FFMPEG / $PIE_FFPROBE. */
  readonly configured?: string;
  readonly envPath?: string;
  /** Tests turn the npm fallback off to exercise the not-found error. */
  readonly npm?: boolean;
}

const cache = new Map<string, ResolvedTool>();

export function resolveTool(tool: Tool, o: ResolveOptions = {}): ResolvedTool {
  const configured = o.configured ?? process.env[ENV_VAR[tool]];
  const envPath = o.envPath ?? process.env.PATH;
  const key = `${tool}|${configured ?? ''}|${envPath ?? ''}|${o.npm ?? true}`;
  const hit = cache.get(key);
  if (hit) return hit;
  let found: ResolvedTool | undefined;
  if (configured) {
    if (!isExecutable(configured)) {
      throw new PieError('ffmpeg-missing', `${tool} at ${configured} (from ${o.configured ? 'the configuration' : ENV_VAR[tool]}) is not an executable file`,
        `point it at an ${tool} binary, or unset it to use the one on PATH`);
    }
    found = { tool, path: configured, source: 'configured' };
  } else {
    const p = onPath(tool, envPath);
    const n = p ? undefined : o.npm === false ? undefined : fromNpm(tool);
    if (p) found = { tool, path: p, source: 'PATH' };
    else if (n) found = { tool, path: n, source: 'npm' };
  }
  if (!found) {
    throw new PieError('ffmpeg-missing', `no ${tool} found: not configured, not on PATH, and the npm package ${NPM_PACKAGE[tool]} is not installed`,
      `install it (Debian/Ubuntu: apt-get install ffmpeg), or npm install ${NPM_PACKAGE[tool]}, or set ${ENV_VAR[tool]}=/path/to/${tool}`);
  }
  cache.set(key, found);
  return found;
}

// Reading a config: YAML → environment variables resolved → validated once (schema.ts) → typed
// sub-configs. Every problem is reported at once, each with its key path, its line and the fix,
// as one PieError of kind 'config'. Secrets from the environment never appear in a message.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document } from 'yaml';
import { PieError } from '../errors.js';
import { redact } from '../ingest/redact.js';
import { configSchema, KEYS_AT, type CameraConfig, type ClusterConfig, type PieConfig } from './schema.js';

/** The embedded default: one synthetic dark camera (resolves from src/ and from dist/ alike). */
export const DEFAULT_CONFIG_PATH = fileURLToPath(new URL('../../config/default.yaml', import.meta.url));

export interface ConfigIssue {
  /** As a user reads it: `cameras[1].input`. */
  readonly path: string;
  /** 1-based line in the YAML, where known. */
  readonly line?: number;
  /** "what is wrong — fix: how to fix it". */
  readonly message: string;
}

/** A PieError of kind 'config' that also carries its issues one by one (for tests and the API). */
export class ConfigError extends PieError {
  constructor(readonly source: string, readonly issues: readonly ConfigIssue[]) {
    const where = (i: ConfigIssue): string =>
      i.path === '' ? (i.line !== undefined ? `line ${i.line}` : '(top level)') : `${i.path}${i.line !== undefined ? ` (line ${i.line})` : ''}`;
    const lines = issues.map((i) => `  ${where(i)}: ${i.message}`);
    const count = issues.length === 1 ? '1 problem' : `${issues.length} problems`;
    super('config', `invalid config ${source} (${count}):\n${lines.join('\n')}`);
  }
}

export type Env = Readonly<Record<string, string | undefined>>;

export interface ParseOptions {
  /** Names the config in messages; default "(inline)". */
  readonly source?: string;
  /** Where ${VAR}s are looked up; default process.env. */
  readonly env?: Env;
  /** Relative file inputs and model paths are resolved against this folder; default: left as written. */
  readonly baseDir?: string;
}

/** Validates a YAML config text. Throws ConfigError listing every problem. */
export function parseConfig(text: string, opts: ParseOptions = {}): PieConfig {
  const source = opts.source ?? '(inline)';
  const lineCounter = new LineCounter();
  // uniqueKeys: a key written twice is an error, not "the last one wins".
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(source, doc.errors.map((e) => ({
      path: '',
      line: lineCounter.linePos(e.pos[0]).line,
      message: e.code === 'DUPLICATE_KEY'
        ? `key ${JSON.stringify(keyAt(text, e.pos[0]))} is written twice in the same mapping — fix: keep one of them`
        // The YAML parser's message may quote the line, and the line may hold a password.
        : `YAML syntax error: ${redact(e.message.split('\n')[0] ?? '')} — fix: correct the YAML at that line (indent with spaces; quote values that contain ": " or start with { [ * & ! | >)`,
    })));
  }
  const lineOf = (p: readonly PropertyKey[], key?: string): number | undefined => {
    const offset = offsetAt(doc, p, key);
    return offset === undefined ? undefined : lineCounter.linePos(offset).line;
  };

  let js: unknown;
  try {
    js = doc.toJS();
  } catch (e) {
    // The yaml library refuses aliases that expand past its bound (a "billion laughs" file).
    const alias = /(?:^|[\s,[{:-])\*[^\s,\]}]+/m.exec(text);
    throw new ConfigError(source, [{ path: '', line: alias ? lineCounter.linePos(alias.index + 1).line : undefined,
      message: `YAML aliases expand too far (${e instanceof Error ? e.message : String(e)}) — fix: write the values out instead of repeating *aliases` }]);
  }
  const raw = withoutNulls(js ?? {});
  if (!isRecord(raw)) {
    throw new ConfigError(source, [{ path: '', line: lineOf([]), message: 'expected a mapping of cameras, enhance, detect, mqtt, outputs and server — fix: start from config/example.yaml' }]);
  }
  const issues: ConfigIssue[] = [];
  interpolateSecrets(raw, opts.env ?? process.env, (p, message) => issues.push({ path: formatPath(p), line: lineOf(p), message }));

  const result = configSchema.safeParse(raw);
  if (!result.success) {
    for (const iss of result.error.issues) {
      if (iss.code === 'unrecognized_keys') {
        const allowed = KEYS_AT[pattern(iss.path)] ?? [];
        for (const key of iss.keys) issues.push({ path: formatPath([...iss.path, key]), line: lineOf(iss.path, key), message: unknownKey(key, allowed) });
      } else {
        const message = iss.message.includes(' — fix: ') ? iss.message : `${iss.message} — fix: see config/example.yaml for every key`;
        issues.push({ path: formatPath(iss.path), line: lineOf(iss.path), message });
      }
    }
  }
  if (issues.length > 0) throw new ConfigError(source, sortByLine(issues));
  if (!result.success) throw new ConfigError(source, []); // unreachable: a failed parse has issues

  const config = result.data;
  if (opts.baseDir === undefined) return config;
  const resolved = resolvePaths(config, opts.baseDir);
  // A file camera whose file is missing would pass and then retry for ever: say so at load.
  const missing: ConfigIssue[] = [];
  resolved.cameras.forEach((cam, i) => {
    if (cam.input.kind !== 'file') return;
    const st = fs.statSync(cam.input.path, { throwIfNoEntry: false });
    if (!st?.isFile()) {
      missing.push({ path: formatPath(['cameras', i, 'input']), line: lineOf(['cameras', i, 'input']),
        message: `${cam.input.path} ${st ? 'is not a file' : 'does not exist'} — fix: give the path of a video file (relative paths are relative to the config file), or an rtsp:// URL` });
    }
  });
  if (missing.length > 0) throw new ConfigError(source, missing);
  return resolved;
}

/** The key a duplicate-key error points at: the text from its offset to the ':'. */
function keyAt(text: string, offset: number): string {
  const rest = text.slice(offset, offset + 200);
  const m = /^\s*("(?:[^"\\]|\\.)*"|'[^']*'|[^:\n]*?)\s*:/.exec(rest);
  return (m?.[1] ?? rest.split('\n')[0]!).replace(/^["']|["']$/g, '');
}

/** Reads and validates a config file; relative paths in it are relative to the file. */
export function loadConfig(file: string, env: Env = process.env): PieConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'not found' : code === 'EISDIR' ? 'is a folder' : `cannot be read (${code ?? 'error'})`;
    throw new PieError('config', `config file ${file} ${why}`, 'pass the path of a YAML config file; config/example.yaml shows every key', { cause: e });
  }
  return parseConfig(text, { source: file, env, baseDir: path.dirname(path.resolve(file)) });
}

/** The embedded default config (config/default.yaml). */
export function loadDefaultConfig(env: Env = process.env): PieConfig {
  return loadConfig(DEFAULT_CONFIG_PATH, env);
}

/** A copy fit to print or serve: URL credentials masked, the token hidden. */
export function redactConfig(config: PieConfig): PieConfig {
  return {
    ...config,
    cameras: config.cameras.map((c): CameraConfig => (c.input.kind === 'rtsp' ? { ...c, input: { ...c.input, url: redact(c.input.url) } } : c)),
    ...(config.mqtt !== undefined ? { mqtt: { ...config.mqtt, url: redact(config.mqtt.url) } } : {}),
    server: config.server.token === undefined ? config.server : { ...config.server, token: '***' },
    ...(config.cluster !== undefined ? { cluster: redactCluster(config.cluster) } : {}),
  };
}

/** The cluster settings without their credentials. */
export function redactCluster(c: ClusterConfig): ClusterConfig {
  const { password, token, ...rest } = c;
  return { ...rest, ...(password !== undefined ? { password: '***' } : {}), ...(token !== undefined ? { token: '***' } : {}) };
}

// ---------------------------------------------------------------------------------------------
// Environment variables

const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * ${NAME} → the variable's value, $${ → a literal ${. Only where credentials and paths live:
 * cameras[].input, cameras[].model, enhance.model, mqtt.url, server.token, cluster.user/password/token. Inside the user:password
 * part of an rtsp or mqtt URL the value is percent-encoded, so any password works (ffmpeg and the
 * app's MQTT client decode it again).
 */
function interpolateSecrets(raw: Record<string, unknown>, env: Env, report: (path: PropertyKey[], message: string) => void): void {
  const resolve = (obj: unknown, key: string, p: PropertyKey[]): void => {
    if (!isRecord(obj) || typeof obj[key] !== 'string') return;
    const r = interpolate(obj[key], env);
    if (typeof r === 'string') obj[key] = r;
    else report([...p, key], r.message);
  };
  if (Array.isArray(raw['cameras'])) {
    raw['cameras'].forEach((cam, i) => {
      resolve(cam, 'input', ['cameras', i]);
      resolve(cam, 'model', ['cameras', i]);
    });
  }
  resolve(raw['enhance'], 'model', ['enhance']);
  resolve(raw['mqtt'], 'url', ['mqtt']);
  resolve(raw['server'], 'token', ['server']);
  for (const key of ['user', 'password', 'token']) resolve(raw['cluster'], key, ['cluster']);
}

/** The template with its variables replaced, or what is wrong (naming variables, never values). */
export function interpolate(template: string, env: Env): string | { readonly message: string } {
  const userinfo = userinfoRange(template);
  const missing: string[] = [];
  let bad: string | undefined;
  const out = template.replace(/\$(\$)?\{([^}]*)(\})?/g, (m, escape: string | undefined, name: string, close: string | undefined, at: number) => {
    if (escape) return m.slice(1);
    if (close === undefined) { bad ??= 'a ${ without its closing } — fix: write ${NAME}, or $${ for a literal ${'; return m; }
    if (!VAR_NAME.test(name)) { bad ??= `\${${name}} is not a variable name — fix: use letters, digits and _, e.g. \${CAM1_PASSWORD}`; return m; }
    const value = env[name];
    if (value === undefined || value === '') { if (!missing.includes(name)) missing.push(name); return m; }
    return at >= userinfo[0] && at < userinfo[1] ? encodeURIComponent(value) : value;
  });
  if (bad !== undefined) return { message: bad };
  if (missing.length > 0) {
    const names = missing.join(', ');
    const verb = missing.length === 1 ? 'is' : 'are';
    return { message: `environment variable${missing.length === 1 ? '' : 's'} ${names} ${verb} not set — fix: ${missing.map((n) => `export ${n}=…`).join('; ')} before starting pie-stream` };
  }
  return out;
}

/** [start, end) of the user:password part of an rtsp(s):// or MQTT URL template; empty when there is none. */
function userinfoRange(s: string): [number, number] {
  const m = /^(rtsps?|mqtts?|wss?|tcp):\/\//i.exec(s);
  if (!m) return [0, 0];
  const start = m[0].length;
  const rest = s.slice(start);
  const end = start + (rest.search(/[/?#]/) === -1 ? rest.length : rest.search(/[/?#]/));
  const at = s.lastIndexOf('@', end - 1);
  return at >= start ? [start, at] : [0, 0];
}

// ---------------------------------------------------------------------------------------------
// Paths, lines, messages

function resolvePaths(c: PieConfig, baseDir: string): PieConfig {
  const abs = (p: string): string => path.resolve(baseDir, p);
  return {
    ...c,
    cameras: c.cameras.map((cam): CameraConfig => ({
      ...cam,
      ...(cam.input.kind === 'file' ? { input: { kind: 'file', path: abs(cam.input.path) } } : {}),
      ...(cam.model !== undefined ? { model: abs(cam.model) } : {}),
    })),
    enhance: c.enhance.model === undefined ? c.enhance : { ...c.enhance, model: abs(c.enhance.model) },
  };
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A key written with no value (`detect:` with everything under it commented out) counts as absent. */
function withoutNulls(x: unknown): unknown {
  if (Array.isArray(x)) return x.map(withoutNulls);
  if (!isRecord(x)) return x;
  return Object.fromEntries(Object.entries(x).filter(([, y]) => y !== null).map(([k, y]) => [k, withoutNulls(y)]));
}

/** `cameras[1].outputs.hls`. */
function formatPath(p: readonly PropertyKey[]): string {
  return p.reduce<string>((s, seg) => (typeof seg === 'number' ? `${s}[${seg}]` : s === '' ? String(seg) : `${s}.${String(seg)}`), '');
}

/** `cameras[].outputs`: the key of KEYS_AT. */
function pattern(p: readonly PropertyKey[]): string {
  return formatPath(p.map((seg) => (typeof seg === 'number' ? 0 : seg))).replace(/\[0\]/g, '[]');
}

function unknownKey(key: string, allowed: readonly string[]): string {
  const near = suggest(key, allowed);
  const keys = `keys here: ${allowed.join(', ')}`;
  return near ? `unknown key — fix: did you mean ${near}? (${keys})` : `unknown key — fix: remove it or correct its spelling (${keys})`;
}

/** The allowed key a typo most likely meant: same letters ignoring case, _ and - (max_size → maxSize), else edit distance ≤ 2. */
function suggest(key: string, allowed: readonly string[]): string | undefined {
  const norm = (s: string): string => s.toLowerCase().replace(/[_-]/g, '');
  const same = allowed.find((a) => norm(a) === norm(key));
  if (same) return same;
  let best: string | undefined;
  let bestD = 3;
  for (const a of allowed) {
    const d = editDistance(norm(a), norm(key));
    if (d < bestD) { bestD = d; best = a; }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

/** Where in the text a path points: its key when `key` is given, else its value; else the nearest ancestor found. */
function offsetAt(doc: Document, p: readonly PropertyKey[], key?: string): number | undefined {
  let node: unknown = doc.contents;
  let offset = rangeStart(node);
  const segs = key === undefined ? p : [...p, key];
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i];
    if (isMap(node)) {
      const pair = node.items.find((it) => (isScalar(it.key) ? it.key.value : it.key) === seg);
      if (!pair) break;
      if (key !== undefined && i === segs.length - 1) return rangeStart(pair.key) ?? offset;
      node = pair.value ?? pair.key;
    } else if (isSeq(node) && typeof seg === 'number') {
      node = node.items[seg];
    } else break;
    offset = rangeStart(node) ?? offset;
  }
  return offset;
}

function rangeStart(node: unknown): number | undefined {
  if (typeof node !== 'object' || node === null || !('range' in node)) return undefined;
  const r = (node as { range?: unknown }).range;
  return Array.isArray(r) && typeof r[0] === 'number' ? r[0] : undefined;
}

function sortByLine(issues: ConfigIssue[]): ConfigIssue[] {
  return issues.map((iss, i) => ({ iss, i })).sort((a, b) => (a.iss.line ?? Infinity) - (b.iss.line ?? Infinity) || a.i - b.i).map(({ iss }) => iss);
}

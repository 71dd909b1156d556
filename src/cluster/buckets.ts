// The cluster's KV buckets: the camera catalogue, the camera leases and the node records. One file
// for the KV boundary; the rules live in lease.ts (pure) and the loop in node.ts.
import path from 'node:path';
import { Kvm, type KV, type KvEntry } from '@nats-io/kv';
import { isMap, isSeq, parseDocument } from 'yaml';
import { ConfigError, parseConfig, type Env } from '../config/load.js';
import type { CameraConfig } from '../config/schema.js';
import { PieError } from '../errors.js';
import type { JetStreamManager } from '@nats-io/jetstream';
import type { Bus } from './connection.js';
import { decodeLease, encodeLease, type LeaseEntry, type LeaseValue } from './lease.js';

export const CAMERAS_BUCKET = 'pie-cameras';
export const LEASES_BUCKET = 'pie-leases';
export const NODES_BUCKET = 'pie-nodes';
/** Lease history kept per camera (the KV maximum): enough to audit hand-offs. */
const LEASE_HISTORY = 64;
/** A camera's stored mapping is small; a larger one is a mistake, not a camera. */
const MAX_CAMERA_BYTES = 64 * 1024;
/** Bounded reads: a catalogue larger than this is refused rather than loaded whole. */
export const MAX_CAMERAS = 4096;

export interface Buckets {
  readonly cameras: KV;
  readonly leases: KV;
  readonly nodes: KV;
  /** Lists keys through stream info (see keysOf). */
  readonly jsm: JetStreamManager;
}

/** Opens (creating when absent) the three buckets, with the connection's replicas. */
export async function openBuckets(bus: Bus, replicas = bus.replicas): Promise<Buckets> {
  const kvm = new Kvm(bus.js);
  const [cameras, leases, nodes] = await Promise.all([
    kvm.create(CAMERAS_BUCKET, { history: 5, replicas, maxValueSize: MAX_CAMERA_BYTES }),
    kvm.create(LEASES_BUCKET, { history: LEASE_HISTORY, replicas }),
    kvm.create(NODES_BUCKET, { history: 1, replicas }),
  ]);
  return { cameras, leases, nodes, jsm: bus.jsm };
}

const text = new TextDecoder();
const bytes = new TextEncoder();

// ---------------------------------------------------------------------------------------------
// Cameras: each key holds a camera's mapping as written (${VARS} unresolved, so secrets stay with the
// nodes' environments), validated by the same schema as a local config.

/** A camera of the catalogue: its stored mapping and, when it validates here, its config. */
export interface StoredCamera {
  readonly name: string;
  readonly raw: Record<string, unknown>;
  readonly revision: number;
  readonly config?: CameraConfig;
  /** Why it does not validate on this node (a missing ${VAR}, an unreadable value). */
  readonly problem?: string;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A stored mapping validated as `cameras[0]` of a config: the same messages as a local file. */
export function validateCamera(raw: Record<string, unknown>, env: Env): CameraConfig {
  const doc = parseDocument('cameras: []\n');
  doc.setIn(['cameras', 0], raw);
  return parseConfig(String(doc), { source: `camera ${typeof raw['name'] === 'string' ? raw['name'] : '(unnamed)'}`, env }).cameras[0]!;
}

/**
 * The cameras of a config file, as their raw mappings, after validating the whole file exactly as
 * `run` would (every problem with its key and line). File inputs and model paths become absolute,
 * resolved against the file's folder, since any node may run them.
 */
export function camerasOfFile(file: string, source: string, env: Env): Array<Record<string, unknown>> {
  const config = parseConfig(source, { source: file, env, baseDir: path.dirname(path.resolve(file)) });
  if (config.cameras.length === 0) throw new ConfigError(file, [{ path: 'cameras', message: 'no cameras — fix: add at least one under cameras:, e.g. - { name: front_door, input: synthetic }' }]);
  const doc = parseDocument(source);
  const list = doc.get('cameras');
  if (!isSeq(list)) throw new ConfigError(file, [{ path: 'cameras', message: 'expected a list of cameras — fix: e.g. cameras: [{ name: front_door, input: synthetic }]' }]);
  return list.items.map((item, i) => {
    const raw = isMap(item) ? (item.toJSON() as Record<string, unknown>) : {};
    const c = config.cameras[i]!;
    return {
      ...raw,
      ...(c.input.kind === 'file' ? { input: c.input.path } : {}),
      ...(c.model !== undefined && raw['model'] !== undefined ? { model: c.model } : {}),
    };
  });
}

export async function putCamera(b: Buckets, raw: Record<string, unknown>): Promise<number> {
  const name = raw['name'];
  if (typeof name !== 'string') throw new PieError('config', 'a camera without a name', 'give it name: …');
  return b.cameras.put(name, bytes.encode(JSON.stringify(raw)));
}

/** Removes a camera; false when there was none. Its owner stops it on its next scan. */
export async function removeCamera(b: Buckets, name: string): Promise<boolean> {
  const e = await b.cameras.get(name);
  if (!e || e.operation !== 'PUT') return false;
  await b.cameras.delete(name, { previousSeq: e.revision });
  return true;
}

/**
 * A bucket's keys, from its stream's subjects (stream info with a subject filter): one request the
 * stream's leader answers. kv.keys() would create a consumer, which needs the JetStream meta leader
 * and, on nats-server 2.9, keeps timing out for many seconds after a server of a cluster dies.
 * Deleted keys are listed too (their delete marker is a message): readers check each entry.
 */
async function keysOf(b: Buckets, bucket: string): Promise<string[]> {
  const prefix = `$KV.${bucket}.`;
  const info = await b.jsm.streams.info(`KV_${bucket}`, { subjects_filter: `${prefix}>` });
  const keys = Object.keys(info.state.subjects ?? {}).map((s) => s.slice(prefix.length));
  if (keys.length > MAX_CAMERAS) throw new PieError('cluster', `bucket ${bucket} has more than ${MAX_CAMERAS} keys`, 'split the site into zones, each with its own buckets');
  return keys.sort();
}

export async function listCameras(b: Buckets, env: Env): Promise<StoredCamera[]> {
  const out: StoredCamera[] = [];
  for (const name of await keysOf(b, CAMERAS_BUCKET)) {
    const e = await b.cameras.get(name);
    if (!e || e.operation !== 'PUT') continue;
    let raw: unknown;
    try { raw = JSON.parse(e.string()); } catch { raw = undefined; }
    if (!isRecord(raw)) { out.push({ name, raw: {}, revision: e.revision, problem: 'stored value is not a camera mapping — fix: add the camera again' }); continue; }
    try {
      out.push({ name, raw, revision: e.revision, config: validateCamera(raw, env) });
    } catch (err) {
      out.push({ name, raw, revision: e.revision, problem: err instanceof ConfigError ? err.issues.map((i) => `${i.path.replace(/^cameras\[0\]\.?/, '') || 'camera'}: ${i.message}`).join('; ') : String(err) });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Leases

export const leaseEntryOf = (e: KvEntry): LeaseEntry => {
  const value = e.operation === 'PUT' ? decodeLease(e.value) : undefined;
  return { camera: e.key, revision: e.revision, createdMs: e.created.getTime(), ...(value ? { value } : {}) };
};

export async function readLeases(b: Buckets): Promise<Map<string, LeaseEntry>> {
  const out = new Map<string, LeaseEntry>();
  for (const k of await keysOf(b, LEASES_BUCKET)) {
    const e = await b.leases.get(k);
    if (e) out.set(k, leaseEntryOf(e));
  }
  return out;
}

/**
 * Claims a camera: create when absent (or released), else compare-and-set against the lapsed
 * entry's revision. Returns the new entry (its stamp read back: a server fact), or undefined when
 * another node got there first.
 */
export async function claimLease(b: Buckets, camera: string, value: LeaseValue, over: LeaseEntry | undefined): Promise<LeaseEntry | undefined> {
  try {
    const rev = over && over.value ? await b.leases.update(camera, encodeLease(value), over.revision) : await b.leases.create(camera, encodeLease(value));
    return await readBack(b, camera, rev);
  } catch (e) {
    if (isCasFailure(e)) return undefined;
    throw e;
  }
}

/** Renews a held lease: compare-and-set against the revision this node last wrote. */
export async function renewLease(b: Buckets, held: LeaseEntry, value: LeaseValue): Promise<LeaseEntry | 'lost'> {
  try {
    return await readBack(b, held.camera, await b.leases.update(held.camera, encodeLease(value), held.revision));
  } catch (e) {
    if (isCasFailure(e)) return 'lost';
    throw e;
  }
}

/** Releases a held lease (a delete, kept in history), only if it is still this node's write. */
export async function releaseLease(b: Buckets, held: LeaseEntry): Promise<void> {
  try {
    await b.leases.delete(held.camera, { previousSeq: held.revision });
  } catch (e) {
    if (!isCasFailure(e)) throw e;
  }
}

/** Tries of a read-back: with replicas, a read may reach a replica that has not applied the write yet. */
const READ_BACK_TRIES = 10;
const READ_BACK_WAIT_MS = 50;

/** The entry a write just made (its server stamp), retried a few times, at most ~2.3 s in all. */
async function written(kv: KV, key: string, revision: number): Promise<KvEntry | null> {
  let e = await kv.get(key, { revision });
  for (let i = 1; !e && i < READ_BACK_TRIES; i++) {
    await new Promise((r) => setTimeout(r, READ_BACK_WAIT_MS * i));
    e = await kv.get(key, { revision });
  }
  return e;
}

async function readBack(b: Buckets, camera: string, revision: number): Promise<LeaseEntry> {
  const e = await written(b.leases, camera, revision);
  if (!e) throw new PieError('cluster', `lease ${camera} revision ${revision} vanished after it was written`, 'check the pie-leases bucket (history must be kept)');
  return leaseEntryOf(e);
}

/** JetStream's "wrong last sequence" (10071): a compare-and-set lost to another writer. */
export function isCasFailure(e: unknown): boolean {
  if (typeof e !== 'object' || e === null) return false;
  const code = (e as { code?: unknown }).code;
  return code === 10071 || /wrong last sequence/i.test(e instanceof Error ? e.message : '');
}

// ---------------------------------------------------------------------------------------------
// Nodes: each node's record, rewritten every scan; its stamp tells who is alive.

export interface NodeRecord {
  readonly node: string;
  readonly capacity: number;
  readonly leaseMs: number;
  readonly url?: string;
  readonly owned: readonly string[];
  /** Whether the node is stopping cameras for lack of NATS: reported by the node itself. */
  readonly state: 'ok' | 'draining';
}

export interface NodeEntry extends NodeRecord {
  readonly createdMs: number;
  readonly revision: number;
}

export async function writeNode(b: Buckets, r: NodeRecord): Promise<NodeEntry> {
  const revision = await b.nodes.put(r.node, bytes.encode(JSON.stringify(r)));
  const e = await written(b.nodes, r.node, revision);
  if (!e) throw new PieError('cluster', `node record ${r.node} vanished after it was written`, 'check the pie-nodes bucket');
  return { ...r, createdMs: e.created.getTime(), revision };
}

export async function readNodes(b: Buckets): Promise<NodeEntry[]> {
  const out: NodeEntry[] = [];
  for (const k of await keysOf(b, NODES_BUCKET)) {
    const e = await b.nodes.get(k);
    if (!e || e.operation !== 'PUT') continue;
    try {
      const r = JSON.parse(text.decode(e.value)) as NodeRecord;
      if (typeof r.node === 'string' && typeof r.capacity === 'number' && typeof r.leaseMs === 'number') out.push({ ...r, createdMs: e.created.getTime(), revision: e.revision });
    } catch { /* not a node record: ignored */ }
  }
  return out;
}

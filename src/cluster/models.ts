// Per-camera models in the JetStream object store: `adapt` (or `pie-stream cluster models put`)
// publishes a camera's model under the camera's name, and whichever node owns the camera fetches it
// to a local file before starting it, so a camera keeps its site model after failover.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Objm, type ObjectStore } from '@nats-io/obj';
import { PieError } from '../errors.js';
import type { Bus } from './connection.js';

export const MODELS_BUCKET = 'pie-models';
/** Below NATS's default 1 MB message limit, with room for headers. */
export const MODEL_CHUNK_BYTES = 512 * 1024;
/** DCE-Net is ~320 kB; anything far larger is not a camera model. */
export const MAX_MODEL_BYTES = 64 * 1024 * 1024;

export async function openModels(bus: Bus, replicas = bus.replicas): Promise<ObjectStore> {
  return new Objm(bus.js).create(MODELS_BUCKET, { replicas });
}

export async function publishModel(store: ObjectStore, camera: string, file: string): Promise<{ bytes: number; sha256: string }> {
  const data = fs.readFileSync(file);
  if (data.length > MAX_MODEL_BYTES) throw new PieError('model', `${file} is ${data.length} bytes, more than ${MAX_MODEL_BYTES}`, 'publish a DCE-Net .onnx model (a few hundred kB)');
  const sha256 = crypto.createHash('sha256').update(data).digest('hex');
  await store.putBlob({ name: camera, description: path.basename(file), options: { max_chunk_size: MODEL_CHUNK_BYTES } }, new Uint8Array(data));
  return { bytes: data.length, sha256 };
}

/** The digest of the camera's published model; undefined when none (never published, or removed). */
export async function publishedDigest(store: ObjectStore, camera: string): Promise<string | undefined> {
  const info = await store.info(camera);
  return info && !info.deleted ? info.digest : undefined;
}

/**
 * The camera's published model as a local file under `dir` (named by content, so a re-published
 * model is a new file and a running enhancer's file is never rewritten); undefined when none.
 */
export async function fetchModel(store: ObjectStore, camera: string, dir: string): Promise<string | undefined> {
  const info = await store.info(camera);
  if (!info || info.deleted) return undefined;
  if (info.size > MAX_MODEL_BYTES) throw new PieError('model', `the published model of ${camera} is ${info.size} bytes`, `publish it again: pie-stream cluster models put ${camera} <model.onnx>`);
  const data = await store.getBlob(camera);
  if (!data) return undefined;
  const sha = crypto.createHash('sha256').update(data).digest('hex');
  fs.mkdirSync(dir, { recursive: true });
  const out = path.join(dir, `${camera}-${sha.slice(0, 16)}.onnx`);
  if (!fs.existsSync(out)) {
    fs.writeFileSync(`${out}.tmp`, data);
    fs.renameSync(`${out}.tmp`, out);
  }
  return out;
}

// The catalogue, events and models against a real nats-server: `cluster cameras add|rm` through the
// CLI (validated like a local config), face events replayed from the bounded stream, a model that
// round-trips the object store in chunks below NATS's message limit.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AckPolicy, DeliverPolicy } from '@nats-io/jetstream';
import { listCameras, openBuckets, type Buckets } from '../../src/cluster/buckets.js';
import { openBus, type Bus } from '../../src/cluster/connection.js';
import { ensureEventStream, EVENTS_STREAM, FaceEventBus } from '../../src/cluster/events.js';
import { fetchModel, MODEL_CHUNK_BYTES, openModels, publishModel } from '../../src/cluster/models.js';
import { cli } from '../helpers/cli.js';
import { NATS_SKIP, startNats, type NatsServer } from '../helpers/nats.js';
import { clusterConfig } from './helpers.js';

describe.skipIf(NATS_SKIP !== undefined)('cluster: catalogue, events, models', () => {
  let dir: string, nats: NatsServer, bus: Bus, b: Buckets, nodeConfig: string;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pie-catalogue-'));
    nats = await startNats(dir);
    bus = await openBus(clusterConfig([nats.url], 'admin', 0), { timeoutMs: 2000 });
    b = await openBuckets(bus);
    nodeConfig = path.join(dir, 'node.yaml');
    fs.writeFileSync(nodeConfig, `cluster:\n  servers: [${nats.url}]\n  node: admin\n  capacity: 0\n`);
  }, 30_000);
  afterAll(async () => {
    await bus?.close();
    await nats?.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('adds cameras from a config file, keeping ${VARS} unresolved and file paths absolute, and removes them', async () => {
    const file = path.join(dir, 'cams.yaml');
    fs.writeFileSync(file, 'cameras:\n  - { name: door, input: "rtsp://cam:${CAM_PW}@10.0.0.9/s1" }\n  - { name: yard, input: clips/yard.mp4 }\n');
    process.env['CAM_PW'] = 'pw-secret';
    try {
      expect((await cli('cluster', 'cameras', 'add', file, '--config', nodeConfig)).code).toBe(0);
    } finally { delete process.env['CAM_PW']; }
    const list = await listCameras(b, { CAM_PW: 'x' });
    expect(list.map((c) => c.name)).toEqual(['door', 'yard']);
    expect(list[0]!.raw['input']).toBe('rtsp://cam:${CAM_PW}@10.0.0.9/s1');
    expect(list[1]!.raw['input']).toBe(path.join(dir, 'clips/yard.mp4'));
    // A node without the variable sees the camera as invalid, naming the variable, not a value.
    expect((await listCameras(b, {}))[0]!.problem).toMatch(/CAM_PW is not set/);
    expect((await cli('cluster', 'cameras', 'rm', 'yard', '--config', nodeConfig)).code).toBe(0);
    expect((await listCameras(b, { CAM_PW: 'x' })).map((c) => c.name)).toEqual(['door']);
    expect((await cli('cluster', 'cameras', 'rm', 'yard', '--config', nodeConfig)).err).toMatch(/no camera "yard"/);
  });

  it('refuses a config published with an error, naming the key, and stores nothing', async () => {
    const file = path.join(dir, 'bad.yaml');
    fs.writeFileSync(file, 'cameras:\n  - { name: gate, input: synthetic, widht: 640 }\n');
    const r = await cli('cluster', 'cameras', 'add', file, '--config', nodeConfig);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/cameras\[0\]\.widht \(line 2\): unknown key — fix: did you mean width\?/);
    expect((await listCameras(b, {})).map((c) => c.name)).not.toContain('gate');
  });

  it('keeps face events on pie-stream.<camera>.faces in a stream bounded by age and bytes, for replay', async () => {
    await ensureEventStream(bus.jsm, { maxAgeS: 60, maxBytes: 1 << 20 });
    const info = await bus.jsm.streams.info(EVENTS_STREAM);
    expect(info.config).toMatchObject({ max_age: 60e9, max_bytes: 1 << 20, subjects: ['pie-stream.*.faces'] });
    const ev = new FaceEventBus(bus);
    for (let seq = 0; seq < 3; seq++) ev.publish({ camera: 'door', seq, ts: 1000 + seq, width: 64, height: 36, faces: [] });
    await new Promise((r) => setTimeout(r, 300));
    await bus.jsm.consumers.add(EVENTS_STREAM, { durable_name: 'replay', ack_policy: AckPolicy.None, deliver_policy: DeliverPolicy.All, filter_subject: 'pie-stream.door.faces' });
    const c = await bus.js.consumers.get(EVENTS_STREAM, 'replay');
    const got: number[] = [];
    for await (const m of await c.fetch({ max_messages: 3, expires: 2000 })) got.push((m.json() as { seq: number }).seq);
    expect(got).toEqual([0, 1, 2]);
    expect(ev.dropped).toBe(0);
  });

  it('round-trips a camera model larger than one chunk through the object store', async () => {
    const model = path.join(dir, 'site.onnx');
    const bytes = Buffer.alloc(MODEL_CHUNK_BYTES * 2 + 123);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31) & 255;
    fs.writeFileSync(model, bytes);
    const store = await openModels(bus);
    await publishModel(store, 'door', model);
    const got = await fetchModel(store, 'door', path.join(dir, 'fetched'));
    expect(got).toBeDefined();
    expect(fs.readFileSync(got!).equals(bytes)).toBe(true);
    expect(await fetchModel(store, 'nobody', path.join(dir, 'fetched'))).toBeUndefined();
  });
});

// Face events on the bus from the live app in cluster mode: a node (runClusterNode, in this process)
// runs a camera that sees faces (a photo of four faces, then black, played as a camera), and a
// consumer created afterwards replays the events from the PIE_FACES stream of a real nats-server.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AckPolicy, DeliverPolicy } from '@nats-io/jetstream';
import type { FrameSink, LiveSink, SinkFactory } from '../../src/app.js';
import { openBuckets, putCamera } from '../../src/cluster/buckets.js';
import { openBus, type Bus } from '../../src/cluster/connection.js';
import { EVENTS_STREAM, facesSubject } from '../../src/cluster/events.js';
import { runClusterNode } from '../../src/cluster/run.js';
import { parseConfig } from '../../src/config/load.js';
import { facesClip } from '../helpers/media.js';
import { faceEventJsonSchema } from '../../src/output/api.js';
import { NATS_SKIP, startNats, type NatsServer } from '../helpers/nats.js';
import { sharedPath, skipReason } from '../helpers/shared.js';
import { clusterConfig, until } from './helpers.js';

const PHOTO = 'data/faces/face-api-js/images/bbt1.jpg';
const photoSkip = NATS_SKIP ?? skipReason(PHOTO);

/** Outputs that keep nothing: this test is about events. */
const none: FrameSink & LiveSink = { write: () => true, attach: () => {}, close: async () => {} };
const sinks: SinkFactory = { hls: async () => none, live: async () => none };

describe.skipIf(photoSkip !== undefined)('cluster: face events on the bus', () => {
  let dir = '', nats: NatsServer | undefined, bus: Bus | undefined, node: { close(): Promise<void> } | undefined;
  afterAll(async () => {
    await node?.close();
    await bus?.close();
    await nats?.kill();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('publishes the app\'s face events to pie-stream.<camera>.faces, where a later consumer replays them', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pie-events-'));
    const W = 640, H = 360;
    const clip = path.join(dir, 'faces.mp4');
    await facesClip(sharedPath(PHOTO), clip, W, H);
    nats = await startNats(dir);
    bus = await openBus(clusterConfig([nats.url], 'admin', 0), { timeoutMs: 2000 });
    await putCamera(await openBuckets(bus), { name: 'lobby', input: clip, width: W, height: H, fps: 10, outputs: { hls: [], websocket: [] } });

    const config = parseConfig(`
cluster: { servers: [${nats.url}], node: n1, capacity: 1, leaseMs: 3000, events: { maxAgeS: 600, maxBytes: 1048576 } }
enhance: { scale: 1/4, batch: { maxSize: 1, maxWaitMs: 0 } }
detect: { enabled: true, fps: 5 }
server: { host: 127.0.0.1, port: 0 }
`, { env: {} });
    node = await runClusterNode(config, sinks, () => {});
    // The stream keeps them: wait until events with faces are stored, then stop the node.
    await until('face events in the stream', async () => (await bus!.jsm.streams.info(EVENTS_STREAM)).state.messages >= 3, 60_000);
    await node.close();
    node = undefined;
    const info = await bus.jsm.streams.info(EVENTS_STREAM);
    expect(info.config).toMatchObject({ max_age: 600e9, max_bytes: 1048576 });

    // A consumer that comes later replays every stored event of the camera, in order.
    await bus.jsm.consumers.add(EVENTS_STREAM, { durable_name: 'later', ack_policy: AckPolicy.None, deliver_policy: DeliverPolicy.All, filter_subject: facesSubject('lobby') });
    const c = await bus.js.consumers.get(EVENTS_STREAM, 'later');
    const got = [];
    for await (const m of await c.fetch({ max_messages: info.state.messages, expires: 3000 })) got.push(faceEventJsonSchema.parse(m.json()));
    expect(got.length).toBe(info.state.messages);
    expect(got.every((e) => e.camera === 'lobby' && e.width === W && e.height === H)).toBe(true);
    // The photo has four faces; events follow frame order.
    expect(Math.max(...got.map((e) => e.faces.length))).toBeGreaterThanOrEqual(3);
    expect(got.map((e) => e.seq)).toEqual([...got.map((e) => e.seq)].sort((a, b) => a - b));
  }, 120_000);
});

// Face events through a real broker: Debian's mosquitto, started here on a free port from a
// generated config (no daemon, no persistence), and a real mqtt.js subscriber.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { FaceEvent } from '../../src/detect/types.js';
import { isPieError } from '../../src/errors.js';
import { faceTopic, MqttFacePublisher } from '../../src/output/mqtt.js';
import { freePort, MOSQUITTO, MOSQUITTO_SKIP, startBroker as startMosquitto, stopBroker as stopMosquitto } from '../helpers/mosquitto.js';

if (MOSQUITTO_SKIP) console.warn(MOSQUITTO_SKIP);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pie-mqtt-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const brokers = new Set<ChildProcess>();
afterEach(async () => { await Promise.all([...brokers].map(stopBroker)); });

async function startBroker(port: number): Promise<ChildProcess> {
  const p = await startMosquitto(port, dir);
  brokers.add(p);
  return p;
}

async function stopBroker(p: ChildProcess): Promise<void> {
  brokers.delete(p);
  await stopMosquitto(p); // a crash, not a clean shutdown: the publisher must notice on its own
}

interface Received { topic: string; body: Record<string, unknown> }

async function subscribe(port: number): Promise<{ client: MqttClient; got: Received[] }> {
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 100 });
  const got: Received[] = [];
  client.on('message', (topic, payload) => got.push({ topic, body: JSON.parse(payload.toString()) as Record<string, unknown> }));
  await client.subscribeAsync('pie-stream/+/faces', { qos: 1 });
  return { client, got };
}

async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const event = (camera: string, seq: number): FaceEvent => ({
  camera, seq, ts: 1_700_000_000_000 + seq * 200, width: 640, height: 360,
  faces: [{ box: { x: 10.04, y: 20.06, width: 30, height: 31 }, score: 0.91234, keypoints: [{ x: 15.01, y: 25 }, { x: 25, y: 25 }] }],
});

describe.skipIf(!MOSQUITTO)('MQTT face events through mosquitto', () => {
  it('publishes each event on pie-stream/<camera>/faces as JSON, in order', async () => {
    const port = await freePort();
    await startBroker(port);
    const sub = await subscribe(port);
    const pub = new MqttFacePublisher({ url: `mqtt://127.0.0.1:${port}`, qos: 1 });
    try {
      for (let i = 0; i < 5; i++) pub.publish(event(i % 2 ? 'back_yard' : 'front_door', i));
      await until(() => sub.got.length === 5, '5 events');
      expect(sub.got.map((m) => m.topic)).toEqual(['front_door', 'back_yard', 'front_door', 'back_yard', 'front_door'].map((c) => `pie-stream/${c}/faces`));
      expect(sub.got.map((m) => m.body.seq)).toEqual([0, 1, 2, 3, 4]);
      expect(sub.got[1]!.body).toEqual({
        camera: 'back_yard', seq: 1, ts: 1_700_000_000_200, width: 640, height: 360,
        faces: [{ box: { x: 10, y: 20.1, width: 30, height: 31 }, score: 0.912, keypoints: [{ x: 15, y: 25 }, { x: 25, y: 25 }] }],
      });
      expect(pub.status()).toMatchObject({ connected: true, published: 5, dropped: 0, queued: 0 });
    } finally {
      await pub.close();
      await sub.client.endAsync();
    }
  });

  it('holds at most maxQueue events while the broker is away, dropping the oldest, and delivers the rest once it comes up', async () => {
    const port = await freePort();
    // Two quick retries, then a long one: the broker and the subscriber come up inside it, so the
    // backlog (QoS 0: lost if nobody is subscribed yet) lands on a listening subscriber.
    const pub = new MqttFacePublisher({ url: `mqtt://127.0.0.1:${port}`, maxQueue: 20, reconnectDelaysMs: [50, 50, 1500] });
    try {
      for (let i = 0; i < 50; i++) pub.publish(event('cam', i));
      expect(pub.status()).toMatchObject({ connected: false, queued: 20, dropped: 30, published: 0 });
      await until(() => pub.status().reconnects >= 2, 'two retries against the missing broker');
      await new Promise((r) => setTimeout(r, 100)); // the second retry has failed: 1.5 s to the next
      await startBroker(port);
      const sub = await subscribe(port);
      try {
        await until(() => sub.got.length === 20, 'the 20 queued events', 5000);
        expect(sub.got.map((m) => m.body.seq)).toEqual(Array.from({ length: 20 }, (_, i) => 30 + i)); // the newest, in order
        expect(pub.status()).toMatchObject({ connected: true, queued: 0, dropped: 30, published: 20 });
      } finally {
        await sub.client.endAsync();
      }
    } finally {
      await pub.close();
    }
  });

  it('reconnects after the broker crashes and restarts, and events published meanwhile arrive', async () => {
    const port = await freePort();
    let broker = await startBroker(port);
    const pub = new MqttFacePublisher({ url: `mqtt://127.0.0.1:${port}`, qos: 1, reconnectDelaysMs: [50, 100] });
    try {
      await until(() => pub.status().connected, 'the first connection');
      await stopBroker(broker);
      await until(() => !pub.status().connected, 'the publisher to notice the crash');
      for (let i = 0; i < 3; i++) pub.publish(event('cam', i)); // while the broker is down
      broker = await startBroker(port);
      const sub = await subscribe(port);
      try {
        await until(() => pub.status().connected, 'the reconnection');
        // Events queued before the subscriber joined may be gone (no retained session); new ones arrive.
        pub.publish(event('cam', 3));
        await until(() => sub.got.some((m) => m.body.seq === 3), 'the event after the restart');
        expect(pub.status().reconnects).toBeGreaterThanOrEqual(1);
        expect(pub.status().dropped).toBe(0);
      } finally {
        await sub.client.endAsync();
      }
    } finally {
      await pub.close();
      await pub.close(); // safe twice
    }
  });
});

describe('MQTT publisher without a broker', () => {
  it('queues, retries, and closes promptly (no broker ever came up)', async () => {
    const port = await freePort();
    const pub = new MqttFacePublisher({ url: `mqtt://127.0.0.1:${port}`, reconnectDelaysMs: [20] });
    pub.publish(event('cam', 0));
    await until(() => pub.status().reconnects >= 2, 'retries');
    expect(pub.status()).toMatchObject({ connected: false, queued: 1, published: 0 });
    expect(pub.status().lastError).toMatch(/ECONNREFUSED/);
    const t = Date.now();
    await pub.close();
    expect(Date.now() - t).toBeLessThan(1500);
    const after = pub.status().reconnects;
    await new Promise((r) => setTimeout(r, 100));
    expect(pub.status().reconnects).toBe(after); // no retry after close
    pub.publish(event('cam', 1)); // ignored once closed
    expect(pub.status().queued).toBe(1);
  });
});

describe('MQTT publisher options', () => {
  it('a topic level cannot hold / or wildcards; a broker that is not a URL is a config error', () => {
    expect(faceTopic('front_door')).toBe('pie-stream/front_door/faces');
    expect(faceTopic('x', 'site/a')).toBe('site/a/x/faces');
    for (const bad of ['a/b', 'a+', '#', '']) expect(() => faceTopic(bad)).toThrow(RangeError);
    const e = (() => { try { return new MqttFacePublisher({ url: 'localhost:1883' }); } catch (err) { return err; } })();
    expect(isPieError(e, 'config')).toBe(true);
    expect((e as Error).message).toMatch(/unknown scheme|not a URL/);
  });
});

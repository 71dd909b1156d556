// Face events to an MQTT broker, on `<prefix>/<camera>/faces` (Frigate's topic habit, prefix
// 'pie-stream'), as the JSON of detect/event.ts. publish() never blocks (it fails only on a camera
// name that cannot be a topic level, which config names never are): events wait in a bounded queue
// (the oldest is dropped and counted when it is full, as a live system wants the present), one
// publish is in flight at a time, and a lost connection is retried on a backoff schedule (mqtt.js's
// fixed reconnect period is turned off for it).
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { faceEventJson } from '../detect/event.js';
import type { FaceEvent } from '../detect/types.js';
import { PieError } from '../errors.js';
import { Backoff } from '../ingest/backoff.js';
import { redact } from '../ingest/redact.js';

export const DEFAULT_TOPIC_PREFIX = 'pie-stream';
export const DEFAULT_MAX_QUEUE = 100;
/** Quick at first (a broker restart), then every 30 s (a broker that is gone). */
export const MQTT_RECONNECT_DELAYS_MS: readonly number[] = [500, 1000, 2000, 5000, 10_000, 30_000];

export interface MqttPublisherOptions {
  /** mqtt://host:port (or mqtts://, ws://, wss://). */
  readonly url: string;
  readonly topicPrefix?: string;
  readonly clientId?: string;
  readonly username?: string;
  readonly password?: string;
  /** 0 (default, as Frigate's events): at most once. 1: the broker acknowledges each event. */
  readonly qos?: 0 | 1;
  /** Events held while disconnected or busy; the oldest goes first when full. Default 100. */
  readonly maxQueue?: number;
  readonly reconnectDelaysMs?: readonly number[];
  /** A TCP connect or CONNACK that takes longer fails the attempt. Default 5000. */
  readonly connectTimeoutMs?: number;
  readonly log?: (line: string) => void;
}

export interface MqttStatus {
  readonly connected: boolean;
  readonly queued: number;
  readonly published: number;
  /** Events dropped because the queue was full. */
  readonly dropped: number;
  /** Connection attempts after the first. */
  readonly reconnects: number;
  readonly lastError?: string;
}

const TOPIC_LEVEL = /^[^/+#\u0000]+$/;

export function faceTopic(camera: string, prefix = DEFAULT_TOPIC_PREFIX): string {
  // A topic level must not hold '/' or the wildcards: config names never do, a bad one is a bug.
  if (!TOPIC_LEVEL.test(camera)) throw new RangeError(`camera name ${JSON.stringify(camera)} cannot be an MQTT topic level`);
  return `${prefix}/${camera}/faces`;
}

interface Pending { readonly topic: string; readonly payload: string }

export class MqttFacePublisher {
  private readonly client: MqttClient;
  private readonly queue: Pending[] = [];
  private readonly backoff: Backoff;
  private readonly maxQueue: number;
  private readonly prefix: string;
  private readonly qos: 0 | 1;
  private readonly log: (line: string) => void;
  /** The event being published, at most one. */
  private current: Pending | undefined;
  private closed = false;
  private closing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private published = 0;
  private dropped = 0;
  private reconnects = 0;
  private lastError: string | undefined;

  /** Starts connecting and returns at once: events published before the connection are queued. */
  constructor(o: MqttPublisherOptions) {
    let url: URL;
    try {
      url = new URL(o.url);
    } catch {
      throw new PieError('config', `MQTT broker ${redact(o.url)} is not a URL`, 'e.g. mqtt://127.0.0.1:1883');
    }
    if (!['mqtt:', 'mqtts:', 'ws:', 'wss:', 'tcp:'].includes(url.protocol)) {
      throw new PieError('config', `MQTT broker ${redact(o.url)} has an unknown scheme ${url.protocol}`, 'use mqtt://host:port (or mqtts://, ws://, wss://)');
    }
    this.maxQueue = o.maxQueue ?? DEFAULT_MAX_QUEUE;
    if (!(Number.isInteger(this.maxQueue) && this.maxQueue >= 1)) throw new PieError('config', `MQTT queue ${this.maxQueue} is not a positive integer`, 'e.g. maxQueue: 100');
    this.prefix = o.topicPrefix ?? DEFAULT_TOPIC_PREFIX;
    this.qos = o.qos ?? 0;
    this.log = o.log ?? (() => {});
    this.backoff = new Backoff({ delaysMs: o.reconnectDelaysMs ?? MQTT_RECONNECT_DELAYS_MS, resetAfterMs: 10_000 });
    const options: IClientOptions = {
      reconnectPeriod: 0, // we reconnect ourselves, on a backoff schedule
      queueQoSZero: false, // our queue is the bounded one
      connectTimeout: o.connectTimeoutMs ?? 5000,
      clean: true,
      ...(o.clientId ? { clientId: o.clientId } : {}),
      ...(o.username ? { username: o.username } : {}),
      ...(o.password ? { password: o.password } : {}),
    };
    this.client = mqtt.connect(o.url, options);
    this.client.on('connect', () => {
      this.backoff.delivering(Date.now());
      this.log(`mqtt: connected to ${redact(o.url)}`);
      this.pump();
    });
    // Without a listener an 'error' event would crash the process; the close that follows retries.
    this.client.on('error', (e) => { this.lastError = e.message; });
    this.client.on('close', () => {
      // An event caught in the broken connection goes back to the head of the queue (sent again
      // on reconnect: at least once for that one), and its late callback, if any, is ignored.
      if (this.current) this.requeue(this.current);
      this.current = undefined;
      this.scheduleReconnect();
    });
  }

  /** Queues one event; never blocks. When the queue is full the oldest event is dropped and counted. */
  publish(e: FaceEvent): void {
    if (this.closed) return;
    this.queue.push({ topic: faceTopic(e.camera, this.prefix), payload: JSON.stringify(faceEventJson(e)) });
    if (this.queue.length > this.maxQueue) {
      this.queue.shift();
      this.dropped++;
    }
    this.pump();
  }

  status(): MqttStatus {
    return {
      connected: this.client.connected, queued: this.queue.length, published: this.published, dropped: this.dropped,
      reconnects: this.reconnects, ...(this.lastError ? { lastError: this.lastError } : {}),
    };
  }

  /** Sends what is queued if the broker is there (up to `graceMs`), then disconnects. Idempotent: every call waits for the one close. */
  close(graceMs = 1000): Promise<void> {
    this.closing ??= this.shutDown(graceMs);
    return this.closing;
  }

  private async shutDown(graceMs: number): Promise<void> {
    const deadline = Date.now() + graceMs;
    while ((this.queue.length > 0 || this.current) && this.client.connected && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
    this.closed = true;
    clearTimeout(this.timer);
    await new Promise<void>((resolve) => { this.client.end(false, {}, () => resolve()); });
  }

  private pump(): void {
    if (this.current || !this.client.connected || this.closed) return;
    const next = this.queue.shift();
    if (!next) return;
    this.current = next;
    this.client.publish(next.topic, next.payload, { qos: this.qos }, (err) => {
      if (this.current !== next) return; // already handed back by 'close'
      this.current = undefined;
      if (err) {
        this.lastError = err.message;
        this.requeue(next);
        return; // the close that follows a failed write reconnects, and 'connect' pumps again
      }
      this.published++;
      this.pump();
    });
  }

  /** Back to the head of the queue, unless newer events have filled it. */
  private requeue(p: Pending): void {
    if (this.queue.length < this.maxQueue) this.queue.unshift(p);
    else this.dropped++;
  }

  private scheduleReconnect(): void {
    if (this.closed || this.timer) return;
    const delay = this.backoff.failed(Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.closed) return;
      this.reconnects++;
      this.client.reconnect();
    }, delay);
    this.timer.unref(); // a retry alone must not keep the process alive
  }
}

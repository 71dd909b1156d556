// The one place that connects to NATS. Credentials go as options, never in a URL, so nothing the
// client logs or reports carries them. Reconnection is the client's own: paced (a wait plus jitter
// between tries, bounded in rate) and without an attempt limit, because a node must rejoin whenever
// NATS returns; while it is away the lease deadlines (node.ts), not the connection, stop cameras.
import fs from 'node:fs';
import { connect } from '@nats-io/transport-node';
import type { ConnectionOptions, NatsConnection } from '@nats-io/nats-core';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { ClusterConfig } from '../config/schema.js';
import { PieError, isPieError, messageOf } from '../errors.js';

export interface Bus {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  /** Replicas of the buckets and streams this connection creates (cluster.replicas). */
  readonly replicas: number;
  /** Connected now (false while the client reconnects). */
  connected(): boolean;
  close(): Promise<void>;
}

export interface BusOptions {
  /** JetStream request timeout: the lease loop wants a failed renewal told early. */
  readonly timeoutMs: number;
  readonly log?: (line: string) => void;
  /** The first connection's deadline. */
  readonly connectTimeoutMs?: number;
}

function readPem(file: string, key: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new PieError('config', `cluster.tls.${key}: ${file} cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})`, `point cluster.tls.${key} at a readable PEM file`, { cause: e });
  }
}

/** cluster.replicas, else one per listed server up to 3 (listing three servers means a 3-server cluster). */
export const replicasOf = (c: ClusterConfig): number => c.replicas ?? Math.min(3, c.servers.length);

export function connectionOptions(c: ClusterConfig, connectTimeoutMs = 5000): ConnectionOptions {
  const tls = c.tls && {
    ...(c.tls.ca ? { ca: readPem(c.tls.ca, 'ca') } : {}),
    ...(c.tls.cert ? { cert: readPem(c.tls.cert, 'cert') } : {}),
    ...(c.tls.key ? { key: readPem(c.tls.key, 'key') } : {}),
  };
  return {
    servers: [...c.servers],
    name: `pie-stream/${c.node}`,
    ...(c.user !== undefined ? { user: c.user, pass: c.password ?? '' } : {}),
    ...(c.token !== undefined ? { token: c.token } : {}),
    ...(tls ? { tls } : {}),
    timeout: connectTimeoutMs,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 1000,
    reconnectJitter: 500,
    // A dead server is noticed within a few seconds, not the client's default two minutes.
    pingInterval: 2000,
    maxPingOut: 2,
  };
}

export async function openBus(c: ClusterConfig, o: BusOptions): Promise<Bus> {
  const log = o.log ?? (() => {});
  let nc: NatsConnection;
  try {
    nc = await connect(connectionOptions(c, o.connectTimeoutMs));
  } catch (e) {
    throw new PieError('cluster', `cannot connect to NATS at ${c.servers.join(', ')}: ${messageOf(e)}`,
      'start nats-server with JetStream (nats-server -js), check cluster.servers and the credentials in cluster.user/password or token');
  }
  let up = true;
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect') { up = false; log(`nats: disconnected from ${s.server}; reconnecting`); }
      else if (s.type === 'reconnect') { up = true; log(`nats: reconnected to ${s.server}`); }
    }
  })().catch(() => { /* the iterator ends on close */ });
  const js = jetstream(nc, { timeout: o.timeoutMs });
  const jsm = await jetstreamManager(nc, { timeout: o.timeoutMs }).catch((e: unknown) => {
    void nc.close();
    throw new PieError('cluster', `NATS at ${c.servers.join(', ')} has no JetStream: ${messageOf(e)}`, 'start nats-server with -js (and a store folder: -sd /var/lib/nats)');
  });
  let closed = false;
  return {
    nc, js, jsm, replicas: replicasOf(c),
    connected: () => up && !nc.isClosed(),
    close: async () => {
      if (closed) return;
      closed = true;
      await nc.close().catch(() => {});
    },
  };
}

/**
 * Runs a node's first steps against NATS (connect, open buckets) until they succeed or `waitMs`
 * passes: at boot NATS may not be up yet, and a JetStream cluster answers only once it has elected
 * its leaders. One log line, then one try a second; the last error is thrown at the deadline.
 */
export async function untilNatsAnswers<T>(f: () => Promise<T>, log: (line: string) => void, waitMs: number): Promise<T> {
  const end = performance.now() + waitMs;
  for (let i = 0; ; i++) {
    try {
      return await f();
    } catch (e) {
      // A config problem (an unreadable TLS file) does not go away by waiting.
      if (performance.now() >= end || isPieError(e, 'config')) throw e;
      if (i === 0) log(`cluster: NATS not answering yet (${messageOf(e)}); trying again every second for up to ${Math.round(waitMs / 1000)} s`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

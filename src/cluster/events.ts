// Face events on the bus: `pie-stream.<camera>.faces`, kept by a JetStream stream bounded by age
// and bytes so consumers can replay. Publishing is fire-and-forget with a bounded number in flight:
// a slow or absent NATS drops events (counted), it never holds frames back.
import { RetentionPolicy, DiscardPolicy, type JetStreamManager } from '@nats-io/jetstream';
import type { ClusterConfig } from '../config/schema.js';
import type { FaceEventJson } from '../detect/event.js';
import type { Bus } from './connection.js';

export const EVENTS_STREAM = 'PIE_FACES';
export const facesSubject = (camera: string): string => `pie-stream.${camera}.faces`;
const MAX_IN_FLIGHT = 256;

export async function ensureEventStream(jsm: JetStreamManager, events: ClusterConfig['events'], replicas = 1): Promise<void> {
  const cfg = {
    subjects: ['pie-stream.*.faces'], retention: RetentionPolicy.Limits, discard: DiscardPolicy.Old,
    max_age: events.maxAgeS * 1e9, max_bytes: events.maxBytes, num_replicas: replicas,
  };
  try {
    await jsm.streams.info(EVENTS_STREAM);
    await jsm.streams.update(EVENTS_STREAM, cfg);
  } catch {
    await jsm.streams.add({ name: EVENTS_STREAM, ...cfg });
  }
}

export class FaceEventBus {
  private inFlight = 0;
  dropped = 0;
  published = 0;
  constructor(private readonly bus: Bus) {}

  publish(e: FaceEventJson): void {
    if (this.inFlight >= MAX_IN_FLIGHT || !this.bus.connected()) { this.dropped++; return; }
    this.inFlight++;
    this.bus.js.publish(facesSubject(e.camera), JSON.stringify(e))
      .then(() => { this.published++; }, () => { this.dropped++; })
      .finally(() => { this.inFlight--; });
  }
}

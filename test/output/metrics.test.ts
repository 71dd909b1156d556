// The exposition text Prometheus scrapes, from a real prom-client registry.
import { describe, expect, it } from 'vitest';
import { frameStore } from '../../src/ingest/frame-store.js';
import { PieMetrics, type CameraMetricsSnapshot } from '../../src/output/metrics.js';

/** The value of one sample line, e.g. value(text, 'pie_camera_fps{camera="a"}'). */
function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('PieMetrics', () => {
  it('exposes gauges from the app, counters of what happened, and histograms', async () => {
    let cams: CameraMetricsSnapshot[] = [
      { camera: 'a', online: true, cameraFps: 10, processFps: 9.5, skippedFps: 0.5, detectionFps: 0, framesIn: 100, restarts: 0 },
      { camera: 'b', online: false, cameraFps: 0, processFps: 0, skippedFps: 0, detectionFps: 0, framesIn: 0, restarts: 3 },
    ];
    const m = new PieMetrics({ cameras: () => cams, liveClients: () => [{ camera: 'a', variant: 'enhanced', clients: 2 }] }, { defaultMetrics: false });
    m.frameProcessed('a', 40);
    m.frameProcessed('a', 300);
    m.batch('pie-default.onnx', 4, 20);
    m.drop('a', 'busy', 3);
    m.modelSwitched('a');
    m.detectionEvent('a');

    let text = await m.render();
    expect(m.contentType).toMatch(/^text\/plain/);
    expect(value(text, 'pie_camera_up{camera="a"}')).toBe(1);
    expect(value(text, 'pie_camera_up{camera="b"}')).toBe(0);
    expect(value(text, 'pie_camera_fps{camera="a"}')).toBe(10);
    expect(value(text, 'pie_process_fps{camera="a"}')).toBe(9.5);
    expect(value(text, 'pie_skipped_fps{camera="a"}')).toBe(0.5);
    expect(value(text, 'pie_frames_in_total{camera="a"}')).toBe(100);
    expect(value(text, 'pie_camera_restarts_total{camera="b"}')).toBe(3);
    expect(value(text, 'pie_ws_clients{camera="a",variant="enhanced"}')).toBe(2);
    expect(value(text, 'pie_frames_processed_total{camera="a"}')).toBe(2);
    expect(value(text, 'pie_frames_dropped_total{camera="a",reason="busy"}')).toBe(3);
    expect(value(text, 'pie_model_switches_total{camera="a"}')).toBe(1);
    expect(value(text, 'pie_detection_events_total{camera="a"}')).toBe(1);
    // 40 ms and 300 ms: one in the 50 ms bucket, both by 500 ms.
    expect(value(text, 'pie_latency_seconds_bucket{le="0.05",camera="a"}')).toBe(1);
    expect(value(text, 'pie_latency_seconds_bucket{le="0.5",camera="a"}')).toBe(2);
    expect(value(text, 'pie_latency_seconds_sum{camera="a"}')).toBeCloseTo(0.34, 6);
    expect(value(text, 'pie_inference_seconds_count{model="pie-default.onnx"}')).toBe(1);
    expect(value(text, 'pie_batch_size_bucket{le="2",model="pie-default.onnx"}')).toBe(0);
    expect(value(text, 'pie_batch_size_bucket{le="4",model="pie-default.onnx"}')).toBe(1);
    expect(text).toMatch(/# TYPE pie_latency_seconds histogram/);

    // A camera's own totals become counters by their increase; a camera going offline zeroes its gauges.
    cams = [{ ...cams[0]!, framesIn: 150, online: false, cameraFps: 0 }, { ...cams[1]!, restarts: 4 }];
    await new Promise((r) => setTimeout(r, 120)); // past the one-read-per-scrape cache
    text = await m.render();
    expect(value(text, 'pie_frames_in_total{camera="a"}')).toBe(150);
    expect(value(text, 'pie_camera_restarts_total{camera="b"}')).toBe(4);
    expect(value(text, 'pie_camera_up{camera="a"}')).toBe(0);
    expect(value(text, 'pie_camera_fps{camera="a"}')).toBe(0);
  });

  it('exposes the frame stores: slots, free slots, and counted buffers handed out when none was free', async () => {
    const m = new PieMetrics({ cameras: () => [], liveClients: () => [] }, { defaultMetrics: false });
    const bytes = 7 * 5 * 3, store = frameStore(bytes);
    const held = Array.from({ length: store.maxSlots + 2 }, () => store.take()); // every slot, then two counted buffers
    store.release(held[0]!);
    const text = await m.render();
    expect(value(text, `pie_frame_store_slots{bytes="${bytes}"}`)).toBe(store.maxSlots);
    expect(value(text, `pie_frame_store_free{bytes="${bytes}"}`)).toBe(1);
    expect(value(text, `pie_frame_store_fallbacks_total{bytes="${bytes}"}`)).toBe(2);
  });

  it('keeps serving when the app cannot be read (metrics observe, they never throw at the scraper)', async () => {
    const m = new PieMetrics({ cameras: () => { throw new Error('boom'); }, liveClients: () => { throw new Error('boom'); } }, { defaultMetrics: false });
    m.frameProcessed('a', 10);
    const text = await m.render();
    expect(value(text, 'pie_frames_processed_total{camera="a"}')).toBe(1);
  });

  it('includes the process metrics by default', async () => {
    const m = new PieMetrics({ cameras: () => [], liveClients: () => [] });
    expect(await m.render()).toMatch(/^process_resident_memory_bytes \d+/m);
  });
});

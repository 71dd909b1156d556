// The stall judgement on made-up times: each reason, and the grace a fresh camera gets.
import { describe, expect, it } from 'vitest';
import { cameraFlow, stallAfterMs, type FlowInput } from '../../src/output/flow.js';

const T = 100_000;
const flowing: FlowInput = {
  nowMs: T, online: true, onlineSinceMs: T - 60_000, lastDecodedAtMs: T - 50, lastProcessedAtMs: T - 100, lastAcceptedAtMs: T - 100,
  lastBusyDropAtMs: null, lastEncoderDropAtMs: null, busyDrops: 0, encoderDrops: 0, hasOutputs: true,
};

describe('cameraFlow', () => {
  it('says nothing while frames reach the outputs, or while the camera is not online (its state says it)', () => {
    expect(cameraFlow(flowing, 4000)).toEqual({ stalled: false, reason: null, message: null, sinceMs: null });
    expect(cameraFlow({ ...flowing, online: false, lastAcceptedAtMs: null }, 4000).stalled).toBe(false);
  });

  it('gives a camera that just came online its grace period', () => {
    expect(cameraFlow({ ...flowing, onlineSinceMs: T - 1000, lastDecodedAtMs: null, lastProcessedAtMs: null, lastAcceptedAtMs: null }, 4000).stalled).toBe(false);
    expect(cameraFlow({ ...flowing, onlineSinceMs: T - 5000, lastDecodedAtMs: null, lastProcessedAtMs: null, lastAcceptedAtMs: null }, 4000).reason).toBe('decode-stalled');
  });

  it('tells decode stalled, dropped as busy, processing stalled and encoder behind apart', () => {
    const stale = { lastProcessedAtMs: T - 9000, lastAcceptedAtMs: T - 9000 };
    expect(cameraFlow({ ...flowing, ...stale, lastDecodedAtMs: T - 9000 }, 4000)).toEqual({
      stalled: true, reason: 'decode-stalled', message: "No frames for 9 s: decode stalled (the camera's ffmpeg delivers no frames)", sinceMs: T - 9000,
    });
    const busy = cameraFlow({ ...flowing, ...stale, lastBusyDropAtMs: T - 200, busyDrops: 37 }, 4000);
    expect(busy.reason).toBe('dropped-busy');
    expect(busy.message).toBe('No frames for 9 s: dropped as busy (inference cannot keep up; 37 dropped so far)');
    // A busy drop from before the silence began is not why it is silent now.
    expect(cameraFlow({ ...flowing, ...stale, lastBusyDropAtMs: T - 9500, busyDrops: 1 }, 4000).reason).toBe('processing-stalled');
    expect(cameraFlow({ ...flowing, lastAcceptedAtMs: T - 9000, lastEncoderDropAtMs: T - 100, encoderDrops: 80 }, 4000)).toMatchObject({
      reason: 'encoder-behind', message: 'No frames for 9 s: encoder behind (the encoder refuses frames; 80 dropped so far)',
    });
  });

  it('judges a camera without outputs by its processed frames', () => {
    expect(cameraFlow({ ...flowing, hasOutputs: false, lastAcceptedAtMs: null }, 4000).stalled).toBe(false);
  });

  it('waits at least 4 s, and 3 frame intervals for a slow camera', () => {
    expect(stallAfterMs(25)).toBe(4000);
    expect(stallAfterMs(0.5)).toBe(6000);
  });
});

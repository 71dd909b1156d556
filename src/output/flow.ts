// Whether a camera's pictures are reaching its outputs, and if not, why: the one judgement that
// /api/cameras, /health and the viewer all show, in the same words. A camera can be "online" (its
// ffmpeg runs) and still deliver nothing: the decoder stalled, every frame was dropped as busy
// (inference cannot keep up), or the encoder is behind and refuses frames. Pure.

export const STALL_REASONS = ['decode-stalled', 'dropped-busy', 'processing-stalled', 'encoder-behind'] as const;
/**
 * decode-stalled: ffmpeg delivers no decoded frames. dropped-busy: frames arrive and are all dropped
 * because inference is still on older ones. processing-stalled: frames arrive, none is dropped, and
 * inference has not returned one. encoder-behind: frames are processed but the encoder refuses them.
 */
export type StallReason = (typeof STALL_REASONS)[number];

export interface Flow {
  /** True when no frame reached an output for `stallAfterMs` while the camera is online. */
  readonly stalled: boolean;
  readonly reason: StallReason | null;
  /** For people, the same sentence everywhere: "No frames for 6 s: dropped as busy (…)". */
  readonly message: string | null;
  /** Since when (ms since the epoch) nothing reached an output; null when flowing. */
  readonly sinceMs: number | null;
}

/** What the app knows of one camera's frames, as times (ms since the epoch, null = never). */
export interface FlowInput {
  readonly nowMs: number;
  readonly online: boolean;
  /** Since when the camera is online (a fresh camera gets its grace period). */
  readonly onlineSinceMs: number | null;
  readonly lastDecodedAtMs: number | null;
  /** The newest frame the processing stage handed on (enhanced, or raw for a raw-only camera). */
  readonly lastProcessedAtMs: number | null;
  /** The newest frame an output accepted. */
  readonly lastAcceptedAtMs: number | null;
  readonly lastBusyDropAtMs: number | null;
  readonly lastEncoderDropAtMs: number | null;
  /** Frames dropped as busy and by the encoder so far, for the message. */
  readonly busyDrops: number;
  readonly encoderDrops: number;
  /** True when the camera has outputs (else processed frames count as delivered). */
  readonly hasOutputs: boolean;
}

/** The silence after which a camera counts as stalled: 4 s (the viewer's own) or 3 frame intervals. */
export const stallAfterMs = (fps: number): number => Math.max(4000, 3000 / fps);

const FLOWING: Flow = { stalled: false, reason: null, message: null, sinceMs: null };

const newer = (a: number | null, b: number | null): number | null => (a === null ? b : b === null ? a : Math.max(a, b));

export function cameraFlow(i: FlowInput, stallMs: number): Flow {
  if (!i.online) return FLOWING; // the camera's own state (offline, restarting) and lastError say it
  const since = (t: number | null): number => newer(t, i.onlineSinceMs) ?? i.nowMs;
  const delivered = i.hasOutputs ? i.lastAcceptedAtMs : i.lastProcessedAtMs;
  const from = since(delivered);
  if (i.nowMs - from < stallMs) return FLOWING;
  const secs = Math.round((i.nowMs - from) / 1000);
  const out = (reason: StallReason, why: string): Flow => ({ stalled: true, reason, message: `No frames for ${secs} s: ${why}`, sinceMs: from });
  if (i.nowMs - since(i.lastDecodedAtMs) >= stallMs) return out('decode-stalled', 'decode stalled (the camera\'s ffmpeg delivers no frames)');
  if (i.nowMs - since(i.lastProcessedAtMs) >= stallMs) {
    if (i.lastBusyDropAtMs !== null && i.lastBusyDropAtMs >= from) return out('dropped-busy', `dropped as busy (inference cannot keep up; ${i.busyDrops} dropped so far)`);
    return out('processing-stalled', 'processing stalled (inference has not returned a frame)');
  }
  if (i.lastEncoderDropAtMs !== null && i.lastEncoderDropAtMs >= from) return out('encoder-behind', `encoder behind (the encoder refuses frames; ${i.encoderDrops} dropped so far)`);
  return out('processing-stalled', 'processing stalled (frames are processed but reach no output)');
}

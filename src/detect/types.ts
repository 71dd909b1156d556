// The detector's records: boxes, keypoints and faces, in the pixel space named where they are used
// (model input pixels straight out of decoding, frame pixels once a tile is mapped back).
export interface Point {
  readonly x: number;
  readonly y: number;
}

/** Axis-aligned box: top-left corner and size. */
export interface Box {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface Face {
  readonly box: Box;
  /** Confidence in [0, 1]. */
  readonly score: number;
  /** Six points, in the order of KEYPOINT_NAMES. */
  readonly keypoints: readonly Point[];
  /** Set by the still-scene gate (src/detect/static-scene.ts) on a face on a still part of the view: never reported; the fixture rule learns from it. */
  readonly still?: true;
}

/**
 * BlazeFace's keypoint order (MediaPipe's names, from the subject's point of view: the subject's
 * right eye appears on the image's left in an unmirrored photo).
 */
export const KEYPOINT_NAMES = ['rightEye', 'leftEye', 'noseTip', 'mouthCenter', 'rightEarTragion', 'leftEarTragion'] as const;
export const KEYPOINT_COUNT = KEYPOINT_NAMES.length;

/**
 * The faces found on one camera frame, as the live pipeline emits them (detectAt) and the outputs
 * send them (MQTT, WebSocket). Boxes and keypoints in the frame's pixels.
 */
export interface FaceEvent {
  readonly camera: string;
  /** The frame's per-camera sequence number (Frame.seq). */
  readonly seq: number;
  /** The frame's capture time, ms since the Unix epoch (Frame.ptsMs). */
  readonly ts: number;
  readonly width: number;
  readonly height: number;
  readonly faces: readonly Face[];
}

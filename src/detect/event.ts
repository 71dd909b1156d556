// The wire form of a FaceEvent, shared by every output (MQTT, WebSocket, HTTP snapshot): plain
// JSON, coordinates rounded to 0.1 px and scores to 0.001 — finer than any detector's accuracy,
// and it keeps a 10-face event near 2 KB. Keypoints in KEYPOINT_NAMES order. Pure.
import type { Face, FaceEvent } from './types.js';

const r1 = (v: number): number => Math.round(v * 10) / 10;
const r3 = (v: number): number => Math.round(v * 1000) / 1000;

export interface FaceJson {
  readonly box: { readonly x: number; readonly y: number; readonly width: number; readonly height: number };
  readonly score: number;
  readonly keypoints: ReadonlyArray<{ readonly x: number; readonly y: number }>;
}

export interface FaceEventJson {
  readonly camera: string;
  readonly seq: number;
  readonly ts: number;
  readonly width: number;
  readonly height: number;
  readonly faces: readonly FaceJson[];
}

export function faceJson(f: Face): FaceJson {
  return {
    box: { x: r1(f.box.x), y: r1(f.box.y), width: r1(f.box.width), height: r1(f.box.height) },
    score: r3(f.score),
    keypoints: f.keypoints.map((p) => ({ x: r1(p.x), y: r1(p.y) })),
  };
}

export function faceEventJson(e: FaceEvent): FaceEventJson {
  return { camera: e.camera, seq: e.seq, ts: Math.round(e.ts), width: e.width, height: e.height, faces: e.faces.map(faceJson) };
}

// The still pictures the API serves: a camera's newest frame as JPEG (raw or enhanced), and its
// newest detection with faces, boxes drawn. Each is encoded once, on the first request for it.
import type { Variant } from '../config/schema.js';
import { drawFaces } from '../detect/draw.js';
import { encodeImage } from '../image/io.js';
import type { CameraRuntime } from '../ingest/camera-runtime.js';
import { releaseFrame, retainFrame } from '../ingest/frame-store.js';

/** The newest frame of a camera as JPEG; null before the first one. One encode per frame, however many ask. */
export function snapshotJpeg(c: CameraRuntime, variant: Variant): Promise<Uint8Array | null> {
  const f = c.latest[variant];
  if (!f) return Promise.resolve(null);
  const cached = c.jpeg[variant];
  if (cached && cached.seq === f.seq) return cached.bytes;
  // The encoder reads the pixels on another thread: held until it is done (a newer frame may replace this one meanwhile).
  retainFrame(f.data);
  const bytes = encodeImage({ width: f.width, height: f.height, data: f.data }, 'snapshot.jpg');
  void bytes.then(() => releaseFrame(f.data), () => releaseFrame(f.data));
  c.jpeg[variant] = { seq: f.seq, bytes };
  return bytes;
}

/** The newest detection with faces: its enhanced frame with the boxes, encoded once; null before the first. */
export function facesJpeg(c: CameraRuntime): Promise<Uint8Array | null> {
  const s = c.faces;
  if (!s) return Promise.resolve(null);
  s.jpeg ??= encodeImage(drawFaces(s.frame, s.faces), 'faces.jpg');
  return s.jpeg;
}

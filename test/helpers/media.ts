// Test media made on the spot: dark images and short clips from ffmpeg's lavfi sources.
import { runTool } from '../../src/ingest/ffmpeg-process.js';
import { syntheticSceneGraph } from '../../src/ingest/synthetic.js';
import type { RgbImage } from '../../src/image/types.js';

/** A dark gradient with structure, mean brightness about 0.1. */
export function darkImage(width: number, height: number, seed = 1): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const v = 8 + ((x * 40) / width + (y * 20) / height + ((x ^ y ^ seed) & 7));
      data[i] = v;
      data[i + 1] = v * 0.9;
      data[i + 2] = v * 0.7 + ((x + seed) % 5);
    }
  }
  return { width, height, data };
}

export const meanOf = (d: Uint8Array): number => d.reduce((a, b) => a + b, 0) / d.length / 255;

export async function makeClip(file: string, o: { width: number; height: number; fps: number; seconds: number; audio?: boolean }): Promise<void> {
  const audio = o.audio ? ['-f', 'lavfi', '-i', `sine=frequency=300:duration=${o.seconds}`, '-c:a', 'aac', '-shortest'] : [];
  await runTool(['-hide_banner', '-nostdin', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', syntheticSceneGraph({ width: o.width, height: o.height, fps: o.fps, duration: o.seconds, exposure: 0.1 }),
    ...audio, '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', file]);
}

/** All frames of a video as packed RGB, with its size. */
export async function decodeAll(file: string, width: number, height: number): Promise<Uint8Array[]> {
  const raw = await runTool(['-hide_banner', '-nostdin', '-loglevel', 'error', '-i', file, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1']);
  const n = width * height * 3;
  return Array.from({ length: raw.length / n }, (_, i) => new Uint8Array(raw.subarray(i * n, (i + 1) * n)));
}

/**
 * 1 s of black, a still (a photo of faces) for 2.5 s, then 1.5 s of black, at 10 fps: people arrive,
 * stay, leave. They arrive because the still-scene gate does not report faces on a view that has not
 * changed since the camera started (src/detect/static-scene.ts, `startAs`).
 */
export async function facesClip(photo: string, out: string, width: number, height: number): Promise<void> {
  await runTool(['-hide_banner', '-nostdin', '-loglevel', 'error', '-y', '-f', 'lavfi', '-i', `color=black:s=${width}x${height}:r=10:d=1`,
    '-loop', '1', '-t', '2.5', '-i', photo,
    '-f', 'lavfi', '-i', `color=black:s=${width}x${height}:r=10:d=1.5`,
    '-filter_complex', `[1]scale=${width}:${height},fps=10,format=yuv420p,setsar=1[a];[0]format=yuv420p,setsar=1[b0];[2]format=yuv420p,setsar=1[b];[b0][a][b]concat=n=3:v=1[v]`,
    '-map', '[v]', '-c:v', 'libx264', '-preset', 'ultrafast', out]);
}

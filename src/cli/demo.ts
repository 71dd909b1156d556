// `pie-stream demo` (what `npm start` runs until the live pipeline lands): makes a dark synthetic
// clip with ffmpeg, enhances it, and writes the clip, its enhanced version and a side-by-side
// still to look at. Needs nothing from outside the project.
import fs from 'node:fs';
import path from 'node:path';
import { Enhancer } from '../enhance/enhancer.js';
import type { ProviderChoice } from '../enhance/session.js';
import { enhanceVideo } from '../enhance/video-file.js';
import { writeImage } from '../image/io.js';
import type { RgbImage } from '../image/types.js';
import { runTool } from '../ingest/ffmpeg-process.js';
import { syntheticSceneGraph } from '../ingest/synthetic.js';

export interface DemoOptions { readonly outDir: string; readonly downscale: number; readonly provider: ProviderChoice; readonly modelPath?: string }

function sideBySide(a: RgbImage, b: RgbImage): RgbImage {
  const w = a.width + b.width;
  const data = new Uint8Array(w * a.height * 3);
  for (let y = 0; y < a.height; y++) {
    data.set(a.data.subarray(y * a.width * 3, (y + 1) * a.width * 3), y * w * 3);
    data.set(b.data.subarray(y * b.width * 3, (y + 1) * b.width * 3), (y * w + a.width) * 3);
  }
  return { width: w, height: a.height, data };
}

export async function runDemo(o: DemoOptions, log: (s: string) => void): Promise<string[]> {
  fs.mkdirSync(o.outDir, { recursive: true });
  const dark = path.join(o.outDir, 'dark-scene.mp4');
  const enhanced = path.join(o.outDir, 'dark-scene.enhanced.mp4');
  const still = path.join(o.outDir, 'dark-vs-enhanced.png');
  const scene = { width: 1280, height: 720, fps: 25, duration: 4 };
  log(`generating ${dark} (synthetic night scene, ${scene.width}x${scene.height}, ${scene.duration} s, with a tone as audio)`);
  await runTool(['-hide_banner', '-nostdin', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', syntheticSceneGraph(scene),
    '-f', 'lavfi', '-i', `sine=frequency=440:duration=${scene.duration}`,
    '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '20', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', dark]);
  const enhancer = await Enhancer.open({ downscale: o.downscale, provider: o.provider, ...(o.modelPath ? { modelPath: o.modelPath } : {}) });
  log(enhancer.describe());
  try {
    const r = await enhanceVideo(enhancer, dark, enhanced, { batch: 4 });
    log(`enhanced ${r.frames} frames in ${r.seconds.toFixed(1)} s (${(r.frames / r.seconds).toFixed(1)} fps, decode+enhance+encode)`);
    // One still: the first frame, dark and enhanced side by side.
    const raw = await runTool(['-hide_banner', '-nostdin', '-loglevel', 'error', '-i', dark, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1']);
    const frame: RgbImage = { width: scene.width, height: scene.height, data: new Uint8Array(raw) };
    const [out] = (await enhancer.enhance([frame])).frames;
    await writeImage(sideBySide(frame, out!), still);
  } finally {
    await enhancer.close();
  }
  return [dark, enhanced, still];
}

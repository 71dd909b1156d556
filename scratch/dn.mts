import { Denoiser } from '../src/denoise/denoiser.ts';
import { darken } from '../src/eval/synthetic-night.ts';
const [W, H] = [1280, 720];
function frame(seed: number) { const d = new Uint8Array(W * H * 3); for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) { const v = 128 + 100 * Math.sin(x / 37) * Math.cos(y / 23), i = (y * W + x) * 3; d[i] = v; d[i + 1] = v * 0.85; d[i + 2] = v * 0.7; } return darken({ width: W, height: H, data: d }, { exposure: 0.1, fullWell: 300, seed }); }
const frames = Array.from({ length: 4 }, (_, i) => frame(i + 1));
for (const rep of [0, 1]) for (const gm of ['shift', 'off', 'off+alloc'] as const) {
  const d = await Denoiser.open({ mode: 'temporal', globalMotion: gm === 'shift' ? 'shift' : 'off', provider: 'cpu', spin: false });
  const s = (d as unknown as { session: { run: (...a: unknown[]) => Promise<unknown> } }).session;
  const orig = s.run.bind(s); let runMs = 0;
  s.run = async (...a: unknown[]) => { const t = performance.now(); const r = await orig(...a); runMs += performance.now() - t; return r; };
  let i = 0;
  for (let k = 0; k < 4; k++) await d.denoise([{ camera: 'c', image: frames[i++ % 4]! }]);
  runMs = 0; const c0 = process.cpuUsage(); const t0 = performance.now();
  let sink = 0;
  for (let k = 0; k < 12; k++) { if (gm === 'off+alloc') { const a = new Float32Array(W * H), b = new Float32Array(W * H); for (let j = 0; j < a.length; j++) { a[j] = j; b[j] = a[j]! * 2; } sink += b[5]!; } await d.denoise([{ camera: 'c', image: frames[i++ % 4]! }]); }
  const c = process.cpuUsage(c0);
  console.log(gm, 'wall', ((performance.now() - t0) / 12).toFixed(1), 'session.run', (runMs / 12).toFixed(1), 'cpu', ((c.user + c.system) / 12000).toFixed(1));
  await d.close();
}

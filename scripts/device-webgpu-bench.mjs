// Run on the lent GPU machine (no Node, no npm there): node and the built dist/ with a minimal
// node_modules are carried over, the Vulkan loader unpacked from Debian packages, then
//   node scripts/device-webgpu-bench.mjs   (from the repo root, after npm run build)
// Results of the run on an H100: bench/results/enhance-webgpu-h100.json.
// Enhancer throughput on WebGPU vs CPU on the lent machine (warm-up, then median of runs).
import { Enhancer } from '../dist/enhance/enhancer.js';
import os from 'node:os';
const W = 1280, H = 720;
const frame = (seed) => { const d = new Uint8Array(W * H * 3); let s = seed; for (let i = 0; i < d.length; i++) { s = (s * 1103515245 + 12345) >>> 0; d[i] = 10 + ((i % 3840) >> 6) + (s >>> 28); } return { width: W, height: H, data: d }; };
const frames = Array.from({ length: 8 }, (_, i) => frame(i + 1));
const results = [];
const median = (a) => a.sort((x, y) => x - y)[a.length >> 1];
for (const provider of ['webgpu', 'cpu']) {
  for (const k of [1, 2, 4, 8]) {
    for (const batch of [1, 4]) {
      let e;
      try { e = await Enhancer.open({ modelPath: 'models/pie-default.onnx', downscale: k, provider, ...(provider === 'cpu' ? { threads: os.availableParallelism() } : {}) }); }
      catch (err) { console.log(provider, 'failed to open:', err.message); continue; }
      if (e.provider !== provider) { console.log(`${provider}: fell back to ${e.provider}`, JSON.stringify(e.fallbacks)); await e.close(); continue; }
      const input = frames.slice(0, batch);
      for (let i = 0; i < 3; i++) await e.enhance(input);
      const times = [];
      const t0 = performance.now();
      while (times.length < 10 || performance.now() - t0 < 3000) { const t = performance.now(); await e.enhance(input); times.push(performance.now() - t); if (times.length >= 60) break; }
      const ms = median(times);
      const out = (await e.enhance([frames[0]])).frames[0].data;
      results.push({ provider, scale: `1/${k}`, batch, msPerBatch: ms, fps: (1000 * batch) / ms, out });
      console.log(`${provider} 1280x720 scale 1/${k} batch ${batch}: ${ms.toFixed(1)} ms/batch, ${((1000 * batch) / ms).toFixed(1)} fps (median of ${times.length})`);
      await e.close();
    }
  }
}
for (const r of results.filter((r) => r.provider === 'webgpu')) {
  const c = results.find((x) => x.provider === 'cpu' && x.scale === r.scale && x.batch === r.batch);
  if (!c) continue;
  let maxd = 0; for (let i = 0; i < r.out.length; i++) maxd = Math.max(maxd, Math.abs(r.out[i] - c.out[i]));
  console.log(`scale ${r.scale} batch ${r.batch}: webgpu/cpu speed ${(r.fps / c.fps).toFixed(2)}x, max |webgpu − cpu| ${maxd} levels`);
}
console.log(JSON.stringify(results.map(({ out, ...r }) => r)));

import { estimateGlobalMotion, lumaOfPlanar, lumaOfRgb } from '../src/denoise/global-motion.ts';
const [W, H] = [1280, 720];
const rgb = new Uint8Array(W * H * 3).map((_, i) => (i * 7919) % 251);
const planar = new Uint8Array(W * H * 3).map((_, i) => (i * 104729) % 241);
const t = (name: string, f: () => unknown): unknown => { let r: unknown; for (let i = 0; i < 3; i++) r = f(); const ts: number[] = []; for (let i = 0; i < 11; i++) { const t0 = performance.now(); r = f(); ts.push(performance.now() - t0); } ts.sort((a, b) => a - b); console.log(name, ts[5]!.toFixed(2)); return r; };
const a = t('lumaOfPlanar', () => lumaOfPlanar(planar, W, H)) as ReturnType<typeof lumaOfPlanar>;
const b = t('lumaOfRgb', () => lumaOfRgb(rgb, W, H)) as ReturnType<typeof lumaOfRgb>;
t('estimate', () => estimateGlobalMotion(a, b));

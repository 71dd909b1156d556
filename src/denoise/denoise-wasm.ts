// The boundary to the WebAssembly build of the denoiser's graph (native/denoise-kernel.c; the
// ONNX graph in graph.ts is the reference it is tested against). Same inputs, same outputs,
// one frame a call: the frame, its noise terms and the camera's state in; the denoised frame,
// the next state and the share of moving pixels out. ONNX Runtime runs the graph as ~60 passes
// over memory; the kernel as three fused ones. One instance per Denoiser (so per worker).
import { fileURLToPath } from 'node:url';
import { Arena, wasmModule, type KernelExports } from '../native/wasm.js';
import type { NoiseParams } from './noise-model.js';
import { DENOISE_DEFAULTS, type DenoiseMode, type TemporalDenoiseOptions } from './graph.js';
import { rint } from '../image/hsv.js';
import { TABLE_SIZE, transferTables, UNCLIP_RANGE, unclipTable } from './transfer.js';
import { lumaFactor, type LumaPlane, type MotionLoops } from './global-motion.js';

export const DENOISE_WASM_PATH = fileURLToPath(new URL('../../native/denoise-kernel.wasm', import.meta.url));

interface Exports extends KernelExports {
  denoise(frame: number, w: number, h: number, temporal: number, gain: number, read2: number, lin: number, table: number,
    est: number, count: number, shown: number, nextEst: number, nextCount: number, nextShown: number, codes: number,
    t0: number, t1: number, maxFrames: number, strength: number, radius: number, hysteresis: number, work: number): number;
  luma(data: number, width: number, height: number, factor: number, step: number, plane: number, out: number): void;
  gm_shifted_error(ref: number, cur: number, w: number, h: number, dx: number, dy: number, step: number): number;
  gm_gradients(ref: number, w: number, h: number, gx: number, gy: number): void;
  gm_residual(ref: number, cur: number, gx: number, gy: number, w: number, h: number, tx: number, ty: number, k: number, g: number, b: number, huber: number, accumulate: number, step: number, out: number): number;
  gm_still(ref: number, cur: number, w: number, h: number, tx: number, ty: number, k: number, out: number): void;
  gm_tiles(ref: number, cur: number, w: number, h: number, tx: number, ty: number, k: number, g: number, b: number, restGain: number, restOffset: number, out: number): void;
}

/** A temporal camera's state, planar as the graph's: linear light, frame count, shown codes. */
export interface DenoiseState {
  readonly estimate: Float32Array;
  readonly count: Float32Array;
  readonly shown: Uint8Array;
}

const f = Math.fround;
/** graph.ts MIN_VARIANCE and UNCLIP_SHARE. */
const MIN_VARIANCE = 1e-7;
const UNCLIP_SHARE = 0.5;

/**
 * The frame's encoding table as graph.ts addEncode composes it (linear on a √ grid → black-clip
 * correction → sRGB codes), in float32 step by step as ONNX Runtime computes it.
 */
export function encodeTable(noise: NoiseParams | undefined): Float32Array {
  const t = transferTables(), last = TABLE_SIZE - 1;
  const out = new Float32Array(TABLE_SIZE);
  const toSrgb = (l: number): number => {
    return t.sqrtLinearToSrgb[rint(Math.min(Math.max(f(f(Math.sqrt(Math.max(l, 0))) * last), 0), last))]!;
  };
  if (!noise) {
    for (let i = 0; i < TABLE_SIZE; i++) out[i] = f(t.sqrtLinearToSrgb[i]! * 255);
    return out;
  }
  const unclip = unclipTable(), uLast = unclip.length - 1;
  const gain = f(noise.gain), read2 = f(Math.max(f(noise.read2), f(MIN_VARIANCE)));
  const uScale = f(uLast / UNCLIP_RANGE);
  for (let i = 0; i < TABLE_SIZE; i++) {
    const m = f((i / last) ** 2);
    const sigma = f(Math.sqrt(f(f(m * gain) + read2)));
    const u = f(m / sigma);
    const j = rint(Math.min(Math.max(f(u * uScale), 0), uLast));
    const l = f(m - f(f(sigma * f(UNCLIP_SHARE)) * unclip[j]!));
    out[i] = f(toSrgb(l) * 255);
  }
  return out;
}

/** Offsets of one copy of a camera's state in the module's memory. */
interface Region { readonly est: number; readonly count: number; readonly shown: number }

export class DenoiseWasm {
  /** The layout for the last frame size, and the state region the last call wrote. */
  private layout?: {
    readonly width: number; readonly height: number; readonly frame: number; readonly lin: number; readonly table: number; readonly codes: number; readonly work: number;
    readonly regions: readonly [Region, Region];
    readonly luma: { readonly input: number; readonly out: number };
    /** The global-motion fit's two planes, the reference's gradients, and 32 doubles of results. */
    readonly motion: { readonly ref: number; readonly cur: number; readonly gx: number; readonly gy: number; readonly out: number };
  };
  /** Whose state the last call left in regions[cur]: the caller's arrays, as they were then. */
  private resident?: { readonly state: DenoiseState; readonly cur: 0 | 1 };
  private tableFor?: { readonly gain: number; readonly read2: number };

  private constructor(private readonly x: Exports, private readonly mode: DenoiseMode, private readonly o: TemporalDenoiseOptions) {}

  /** An instance, or undefined where the module cannot load here (the ONNX graph then runs). */
  static create(mode: DenoiseMode, o: TemporalDenoiseOptions = {}): DenoiseWasm | undefined {
    const m = wasmModule(DENOISE_WASM_PATH);
    if (!m) return undefined;
    return new DenoiseWasm(new WebAssembly.Instance(m, {}).exports as unknown as Exports, mode, o);
  }

  private layoutFor(width: number, height: number): NonNullable<DenoiseWasm['layout']> {
    if (this.layout?.width === width && this.layout.height === height) return this.layout;
    const px = width * height, px2 = Math.ceil(width / 2) * Math.ceil(height / 2);
    const a = new Arena(this.x), take = (bytes: number): number => a.take(bytes);
    const temporal = this.mode === 'temporal';
    const region = (): Region => ({ est: take(temporal ? 12 * px : 0), count: take(temporal ? 4 * px : 0), shown: take(temporal ? 3 * px : 0) });
    const l = {
      width, height, frame: take(3 * px), lin: take(4 * 256), table: take(4 * TABLE_SIZE), codes: take(3 * px),
      work: take(4 * (8 * px + 6 * px2 + 9 * width)), regions: [region(), region()] as const,
      luma: { input: take(3 * px), out: take(4 * px) },
      // A luma plane is at most a quarter of the frame (lumaFactor ≥ 2).
      motion: { ref: take(px), cur: take(px), gx: take(px), gy: take(px), out: take(8 * 32) },
    };
    a.fit();
    new Float32Array(this.x.memory.buffer, l.lin, 256).set(transferTables().byteToLinear);
    this.layout = l;
    this.resident = undefined;
    this.tableFor = undefined;
    return l;
  }

  /** global-motion.ts lumaOfRgb, the same plane. */
  lumaOfRgb(data: Uint8Array, width: number, height: number): LumaPlane {
    return this.luma(data, width, height, 3, 1);
  }

  /** global-motion.ts lumaOfPlanar, the same plane. */
  lumaOfPlanar(data: Uint8Array, width: number, height: number): LumaPlane {
    return this.luma(data, width, height, 1, width * height);
  }

  /**
   * global-motion.ts jsMotionLoops in WebAssembly, the same arithmetic in the same order: pass it
   * to estimateGlobalMotion. The planes are copied in once per fit.
   */
  readonly motionLoops = (ref: LumaPlane, cur: LumaPlane): MotionLoops => {
    const x = this.x, { width: w, height: h } = cur;
    // The frame's layout (the luma planes were just made from this frame size); one of the planes' own size otherwise.
    const fits = (l: NonNullable<DenoiseWasm['layout']>): boolean => 4 * w * h <= l.width * l.height;
    const m = (this.layout && fits(this.layout) ? this.layout : this.layoutFor(2 * w, 2 * h)).motion;
    new Float32Array(x.memory.buffer, m.ref, w * h).set(ref.data);
    new Float32Array(x.memory.buffer, m.cur, w * h).set(cur.data);
    let gradients = false;
    const out = (n: number): Float64Array => new Float64Array(x.memory.buffer, m.out, n);
    return {
      shiftedError: (dx, dy, step) => x.gm_shifted_error(m.ref, m.cur, w, h, dx, dy, step),
      residual: (q, acc, step = 1) => {
        if (acc && !gradients) { x.gm_gradients(m.ref, w, h, m.gx, m.gy); gradients = true; }
        const e = x.gm_residual(m.ref, m.cur, m.gx, m.gy, w, h, q[0]!, q[1]!, q[2]!, q[3]!, q[4]!, acc?.huber ?? Infinity, acc ? 1 : 0, step, m.out);
        const o = out(21);
        if (acc) { acc.h.set(o.subarray(0, 15)); acc.v.set(o.subarray(15, 20)); }
        return { e, n: o[20]! };
      },
      stillSums: (q) => {
        x.gm_still(m.ref, m.cur, w, h, q[0]!, q[1]!, q[2]!, m.out);
        const o = out(6);
        return { sr: o[0]!, sc: o[1]!, srr: o[2]!, src: o[3]!, scc: o[4]!, n: o[5]! };
      },
      tiles: (q, rest) => {
        x.gm_tiles(m.ref, m.cur, w, h, q[0]!, q[1]!, q[2]!, q[3]!, q[4]!, rest.gain, rest.offset, m.out);
        const o = out(32);
        return { fit: o.slice(0, 16), rest: o.slice(16, 32) };
      },
    };
  };

  private luma(data: Uint8Array, width: number, height: number, step: number, plane: number): LumaPlane {
    const l = this.layoutFor(width, height), factor = lumaFactor(width);
    const w = Math.floor(width / factor), h = Math.floor(height / factor);
    new Uint8Array(this.x.memory.buffer, l.luma.input, 3 * width * height).set(data.subarray(0, 3 * width * height));
    this.x.luma(l.luma.input, width, height, factor, step, plane, l.luma.out);
    return { width: w, height: h, factor, data: new Float32Array(this.x.memory.buffer, l.luma.out, w * h).slice() };
  }

  /**
   * One frame. Temporal: `state` is the camera's (all zeros for a new one), updated in place to
   * its next value. `noise` as the graph's noise input (gain and read² in linear light).
   * Returns the denoised frame (packed RGB) and the share of pixels judged moving (temporal).
   */
  denoise(frame: Uint8Array, width: number, height: number, noise: NoiseParams, state?: DenoiseState): { codes: Uint8Array; moving: number } {
    const temporal = this.mode === 'temporal';
    if (temporal && !state) throw new Error('the temporal denoiser needs the camera state');
    const px = width * height;
    const l = this.layoutFor(width, height);
    const buf = this.x.memory.buffer;
    new Uint8Array(buf, l.frame, 3 * px).set(frame.subarray(0, 3 * px));
    const gain = f(noise.gain), read2 = f(noise.read2);
    if (this.tableFor?.gain !== gain || this.tableFor.read2 !== read2) {
      new Float32Array(buf, l.table, TABLE_SIZE).set(encodeTable(this.o.unclip === false ? undefined : noise));
      this.tableFor = { gain, read2 };
    }
    // The state goes in from where the last call left it when it is this camera's, unchanged since
    // (a camera alone in its worker: no copy in); otherwise it is copied in.
    let cur: 0 | 1 = 0;
    if (state) {
      const r = this.resident;
      if (r && r.state.estimate === state.estimate && r.state.count === state.count && r.state.shown === state.shown) cur = r.cur;
      else {
        const g = l.regions[0];
        new Float32Array(buf, g.est, 3 * px).set(state.estimate);
        new Float32Array(buf, g.count, px).set(state.count);
        new Uint8Array(buf, g.shown, 3 * px).set(state.shown);
      }
    }
    const from = l.regions[cur], to = l.regions[cur === 0 ? 1 : 0];
    const [t0, t1] = this.o.motionThresholds ?? DENOISE_DEFAULTS.motionThresholds;
    const moving = this.x.denoise(l.frame, width, height, temporal ? 1 : 0, gain, read2, l.lin, l.table,
      from.est, from.count, from.shown, to.est, to.count, to.shown, l.codes,
      t0, t1, this.o.maxFrames ?? DENOISE_DEFAULTS.maxFrames, this.o.strength ?? DENOISE_DEFAULTS.strength,
      this.o.radius ?? DENOISE_DEFAULTS.radius, this.o.hysteresis ?? DENOISE_DEFAULTS.hysteresis, l.work);
    const codes = new Uint8Array(buf, l.codes, 3 * px).slice();
    if (!state) return { codes, moving: 0 };
    state.estimate.set(new Float32Array(buf, to.est, 3 * px));
    state.count.set(new Float32Array(buf, to.count, px));
    state.shown.set(new Uint8Array(buf, to.shown, 3 * px));
    this.resident = { state: { estimate: state.estimate, count: state.count, shown: state.shown }, cur: cur === 0 ? 1 : 0 };
    return { codes, moving };
  }
}

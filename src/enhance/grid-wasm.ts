// The boundary to the WebAssembly build of the grid's two full-resolution passes
// (native/grid-kernel.c; the TypeScript in grid-kernel.ts is the reference it is tested against).
// Same functions, same results within one level of rounding, a few times faster: V8 runs the
// fused loops scalar, the module runs the apply pass four pixels at once with SIMD. One instance
// per enhancer (so per worker): its linear memory holds one frame's input and output and grows
// to the largest frame seen. Nothing here runs on the main thread in the live pipeline.
import { fileURLToPath } from 'node:url';
import { Arena, wasmModule, type KernelExports } from '../native/wasm.js';
import { halfPixelAxis, sampleSize, smallSize, type FrameMeasure, type GridConstants, type GridFrame } from './grid-kernel.js';
import { LUMA_WEIGHTS } from './tone.js';

export const GRID_WASM_PATH = fileURLToPath(new URL('../../native/grid-kernel.wasm', import.meta.url));

/** Chroma-gain exponents the module computes in closed form (native/grid-kernel.c SAT_*). */
const SATURATION_MODES = new Map([[0.25, 0], [0.5, 1], [1, 2], [0, 3]]);

interface Exports extends KernelExports {
  measure(data: number, width: number, height: number, k: number, wr: number, wg: number, wb: number, small: number, sample: number, sums: number, rows: number): number;
  apply(data: number, out: number, width: number, height: number, table: number, signal: number, w: number, K: number,
    colLo: number, colHi: number, colF: number, rowLo: number, rowHi: number, rowF: number,
    levels: number, maxGain: number, sat: number, mono: number, wr: number, wg: number, wb: number, rowT: number, rowS: number): void;
}

const [WR, WG, WB] = LUMA_WEIGHTS;

export class GridWasm {
  private constructor(private readonly x: Exports) {}

  /** An instance, or undefined where the module cannot run here (the TypeScript passes then do). */
  static create(): GridWasm | undefined {
    const m = wasmModule(GRID_WASM_PATH);
    if (!m) return undefined;
    return new GridWasm(new WebAssembly.Instance(m, {}).exports as unknown as Exports);
  }

  /** Whether `apply` can take this chroma-gain exponent (others: grid-kernel.ts applyGrid). */
  static handles(saturation: number): boolean {
    return SATURATION_MODES.has(saturation);
  }

  private f32(p: number, n: number): Float32Array { return new Float32Array(this.x.memory.buffer, p, n); }
  private i32(p: number, n: number): Int32Array { return new Int32Array(this.x.memory.buffer, p, n); }
  private u8(p: number, n: number): Uint8Array { return new Uint8Array(this.x.memory.buffer, p, n); }

  /** grid-kernel.ts measureFrame. */
  measure(data: Uint8Array, width: number, height: number, k: number): FrameMeasure {
    const w = smallSize(width, k), h = smallSize(height, k), cells = 3 * w * h;
    const samples = 3 * sampleSize(width) * sampleSize(height);
    const a = new Arena(this.x);
    const pData = a.take(data.length), pSmall = a.take(4 * cells), pSample = a.take(4 * samples), pSums = a.take(4 * cells), pRows = a.take(4 * 3 * width);
    a.fit();
    this.u8(pData, data.length).set(data);
    const sigma = this.x.measure(pData, width, height, k, WR, WG, WB, pSmall, pSample, pSums, pRows);
    return { small: this.f32(pSmall, cells).slice(), sample: this.f32(pSample, samples).slice(), sigma };
  }

  /** grid-kernel.ts applyGrid, for the exponents `handles` accepts. Writes `out`. */
  apply(data: Uint8Array, out: Uint8Array, width: number, height: number, g: GridFrame, c: GridConstants, maxGain: number, saturation: number): void {
    const sat = SATURATION_MODES.get(saturation);
    if (sat === undefined) throw new RangeError(`the wasm grid kernel has no closed form for saturation ${saturation}`);
    const K = c.levels, n = width * height * 3;
    const a = new Arena(this.x);
    const pData = a.take(n), pOut = a.take(n), pTable = a.take(4 * g.table.length), pSignal = a.take(4 * g.signal.length);
    const pColLo = a.take(4 * width), pColHi = a.take(4 * width), pColF = a.take(4 * width);
    const pRowLo = a.take(4 * height), pRowHi = a.take(4 * height), pRowF = a.take(4 * height);
    const pLevels = a.take(20 * 256), pRowT = a.take(4 * g.w * K), pRowS = a.take(4 * g.w);
    a.fit();
    this.u8(pData, n).set(data.subarray(0, n));
    this.f32(pTable, g.table.length).set(g.table);
    this.f32(pSignal, g.signal.length).set(g.signal);
    const cols = halfPixelAxis(width, g.w), rows = halfPixelAxis(height, g.h);
    this.i32(pColLo, width).set(cols.lo); this.i32(pColHi, width).set(cols.hi); this.f32(pColF, width).set(cols.f);
    this.i32(pRowLo, height).set(rows.lo); this.i32(pRowHi, height).set(rows.hi); this.f32(pRowF, height).set(rows.f);
    // Level records {idx, frac, head, inv, fade}, 20 bytes each (native/grid-kernel.c Level).
    const li = this.i32(pLevels, 5 * 256), lf = this.f32(pLevels, 5 * 256);
    for (let v = 0; v < 256; v++) {
      li[5 * v] = c.idx[v]!; lf[5 * v + 1] = c.frac[v]!; lf[5 * v + 2] = c.head[v]!; lf[5 * v + 3] = c.inv[v]!; lf[5 * v + 4] = c.fade[v]!;
    }
    this.x.apply(pData, pOut, width, height, pTable, pSignal, g.w, K, pColLo, pColHi, pColF, pRowLo, pRowHi, pRowF,
      pLevels, maxGain, sat, g.mono ? 1 : 0, WR, WG, WB, pRowT, pRowS);
    out.set(this.u8(pOut, n));
  }
}

// What the WebAssembly kernels in native/ share (src/enhance/grid-wasm.ts,
// src/denoise/denoise-wasm.ts): compiling a module once per process, and laying buffers out in an
// instance's linear memory. The kernels take offsets into that memory and allocate nothing.
import fs from 'node:fs';

const compiled = new Map<string, WebAssembly.Module | null>();

/**
 * The module at `file`, compiled once; null where the file is missing or this runtime cannot
 * compile it (no SIMD): the caller then runs its reference path.
 */
export function wasmModule(file: string): WebAssembly.Module | null {
  if (!compiled.has(file)) {
    let m: WebAssembly.Module | null;
    try {
      m = new WebAssembly.Module(fs.readFileSync(file));
    } catch {
      m = null;
    }
    compiled.set(file, m);
  }
  return compiled.get(file)!;
}

/** What every kernel module exports beside its functions (scripts/build-wasm.sh). */
export interface KernelExports {
  readonly memory: WebAssembly.Memory;
  /** Where the module's own data and stack end: buffers are laid out from here. */
  readonly __heap_base: WebAssembly.Global;
}

/** Bump allocation of one call's (or one frame size's) buffers, 16-byte aligned for SIMD loads. */
export class Arena {
  private at: number;
  constructor(private readonly x: KernelExports) { this.at = x.__heap_base.value as number; }

  take(bytes: number): number {
    const p = (this.at + 15) & ~15;
    this.at = p + bytes;
    return p;
  }

  /** Grows the memory to hold everything taken; typed-array views made before this may be detached. */
  fit(): void {
    const have = this.x.memory.buffer.byteLength;
    if (this.at > have) this.x.memory.grow(Math.ceil((this.at - have) / 65536));
  }
}

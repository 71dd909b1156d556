// The reference TFLite runtime for conversion checks: LiteRT.js (@litertjs/core, Google's own
// TFLite runtime compiled to WebAssembly, XNNPACK CPU kernels), a devDependency. It is built for
// browsers; in Node its Emscripten loader needs `self`, `require`, `__dirname` and `importScripts`
// (which it uses to load its .js), given here before it loads. Loaded once per process.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import vm from 'node:vm';

export interface TfliteReference {
  /** Runs the model on one float32 input; outputs by name. */
  run(input: Float32Array, dims: readonly number[]): Promise<Map<string, Float32Array>>;
}

type LiteRt = typeof import('@litertjs/core');
let loaded: Promise<LiteRt> | undefined;

async function loadLiteRt(): Promise<LiteRt> {
  const require = createRequire(import.meta.url);
  const wasmDir = path.join(path.dirname(require.resolve('@litertjs/core/package.json')), 'wasm') + path.sep;
  const g = globalThis as Record<string, unknown>;
  g.self ??= globalThis;
  g.require ??= require;
  g.__dirname ??= wasmDir;
  g.__filename ??= path.join(wasmDir, 'litert.js');
  g.importScripts ??= (file: string): void => { vm.runInThisContext(fs.readFileSync(file, 'utf8'), { filename: file }); };
  const lite = await import('@litertjs/core');
  // Its WebGPU probe fails without `navigator` and says so on stderr; the CPU path is what we use.
  const { error, warn } = console;
  console.error = console.warn = () => {};
  try {
    await lite.loadLiteRt(wasmDir);
  } finally {
    Object.assign(console, { error, warn });
  }
  return lite;
}

export async function tfliteReference(modelBytes: Uint8Array): Promise<TfliteReference> {
  const lite = await (loaded ??= loadLiteRt());
  const model = await lite.loadAndCompile(modelBytes, { accelerator: 'wasm' });
  const names = model.getOutputDetails().map((d) => d.name);
  return {
    async run(input, dims) {
      const outs = await model.run([new lite.Tensor(input, [...dims])]);
      return new Map(outs.map((t, i) => [names[i]!, t.toTypedArray() as Float32Array]));
    },
  };
}
